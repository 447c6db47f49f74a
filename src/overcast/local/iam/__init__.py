"""IAM, locally: principals, temporary sessions and policy evaluation."""
