"""Where things are kept: the TinyDB database of users, jobs, chapter versions and chat memory
(`store`), the files of each user's videos (`artifacts`), and their mirror in an S3 bucket (`s3`)."""
