"""Running the work: the in-process job runner with its progress and crash recovery (`runner`),
and the Celery workers that take the jobs when a broker is configured (`remote`)."""
