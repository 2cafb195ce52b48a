"""One module per dataset family; each declares `SOURCES`."""
