"""DynamoDB's API on the local AWS endpoint, over the table port's SQLite tables."""
