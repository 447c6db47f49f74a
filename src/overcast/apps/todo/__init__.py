"""MyToDoList: a per-user to-do REST API (API Gateway + Lambda + DynamoDB + Cognito)."""
