"""Overcast: AWS serverless reference architectures, local and on AWS."""
