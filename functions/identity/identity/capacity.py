"""Deployment properties of the functions that hash passwords: bcrypt is CPU-bound by design."""

# Reserved concurrency from the PasswordHashingConcurrency template parameter, when it is set.
PASSWORD_HASHING_CONCURRENCY = {
    "ReservedConcurrentExecutions": {
        "Fn::If": ["LimitPasswordHashing", {"Ref": "PasswordHashingConcurrency"}, {"Ref": "AWS::NoValue"}],
    },
}
