"""Data quality: the engine that runs the sources' expectation suites with Great Expectations."""
