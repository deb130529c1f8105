from tests.support.outbound import _close_outbound_session  # noqa: F401  (autouse fixture)
