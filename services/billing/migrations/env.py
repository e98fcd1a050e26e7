from services.billing.tables import metadata
from services.kit.consumer import inbox_metadata
from services.kit.idempotency import idempotency_metadata
from services.kit.migrations import run_env
from services.kit.outbox import outbox_metadata
from services.kit.parking import parking_metadata

run_env([outbox_metadata, inbox_metadata, idempotency_metadata, parking_metadata, metadata])
