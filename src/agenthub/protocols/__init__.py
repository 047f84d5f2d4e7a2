"""One package per wire protocol. Each owns its routes, schemas, tables and error format."""
