"""Creates the administrator account from ADMIN_EMAIL and the admin password (ADMIN_PASSWORD, or on
AWS the SSM SecureString ADMIN_PASSWORD_PARAMETER names) when it is missing.

Not behind the API: the deployer invokes it once after a deploy (`make up` does).
"""

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from eduplatform.observability import logger
from eduplatform.secrets import secret

from identity import service


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    email = os.environ["ADMIN_EMAIL"]
    created = service.ensure_admin(email, secret("admin_password"))
    logger.info("admin account checked", extra={"admin_email": email, "admin_created": created})
    return {"email": email, "created": created}
