"""Storage: the DynamoDB key design, one module per item family, role-sized interfaces for the
processor, the fetcher and the API, and an in-memory store held to the same contract tests.

May import: core.
"""
