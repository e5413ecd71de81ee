"""Consumer certification: scenarios run against the mock, recordings, and the checks that
judge what a consumer did."""
