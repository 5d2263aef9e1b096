"""People: accounts, passwords, sign-in throttling, sign-up and sessions (`auth`), the voice room's
seats (`seats`), and what is done to accounts as a whole (`administration`)."""
