"""leadpipe's CDK app: the AWS deployment, built from `chalicelib/resources.py`."""
