"""MiniStack as both local paths run it (`make up`, the e2e tests, docker compose's ``ministack``).

Each module is one change to MiniStack that makes a local invocation behave (and cost) more as it
would on AWS, on a machine where the emulator and every function instance share a few cores:

- ``direct_invocations``: an instance's answer read in the invoking thread, its logs ended by a marker
- ``frozen_old_objects``: the emulator's long-lived objects kept out of its full garbage collections
- ``patient_instances``: provisioned instances kept, further ones started only after a short wait
- ``shared_unpacking``: each distinct code zip unpacked once, linked into every instance's folder
- ``streams_per_interval``: one log stream per function and 10 seconds
- ``lazy_invoke_depth``: the invocation-depth counter registered only when a function imports botocore
- ``runtime_packages``: instances import the Lambda runtime's packages (boto3 and its dependencies), not the venv's
- ``yielding_instances``: the bcrypt function's instances at a lower CPU priority
- ``serve``: MiniStack's app on uvicorn (httptools, uvloop) on LOCAL_BIND_ADDRESS:GATEWAY_PORT

``pinned`` holds the MiniStack version they were written against. ``python -m infra.emulator``
applies them all and serves.
"""
