"""Deployment properties of the functions that hash passwords: bcrypt is CPU-bound by design."""

# Login and register are served by a function of their own (IdentityCredentialsFunction), not by
# the identity API function: ~0.25 s of CPU per request at cost 12, so a burst of logins fills
# every instance it reaches, and sharing them would make GET /me wait behind bcrypt.
PASSWORD_HASHING_GROUP = "credentials"

# Reserved concurrency from the PasswordHashingConcurrency template parameter, when it is set.
PASSWORD_HASHING_CONCURRENCY = {
    "ReservedConcurrentExecutions": {
        "Fn::If": ["LimitPasswordHashing", {"Ref": "PasswordHashingConcurrency"}, {"Ref": "AWS::NoValue"}],
    },
}

# The functions that send the identity emails through SES (sender: the EmailSender parameter).
SEND_EMAIL_POLICY = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": "*",
            "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "EmailSender"}}},
        }
    ],
}
