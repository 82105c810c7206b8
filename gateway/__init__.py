"""fedgate: a GraphQL federation gateway in the style of Apollo Federation 2."""
