"""Reading programs: source loading, parsing, static values, the interpreter and the library API tables."""
