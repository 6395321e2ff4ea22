"""CSV imports of people and of OKRs: all or nothing, and a re-import of the same file changes nothing."""
