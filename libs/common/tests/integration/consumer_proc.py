"""A consumer process for the kill test: slow handler, one big batch per partition."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from city_common.db.database import Database
from city_common.db.uow import UnitOfWork
from city_common.messaging.consumer import ConsumerRunner, Delivery, Subscription
from city_common.observability.metrics import Metrics
from city_common.testing import KAFKA_BOOTSTRAP
from sample_svc.app import record


async def slow_record(delivery: Delivery, uow: UnitOfWork) -> None:
    await record(delivery, uow)
    # Slow enough that the parent can kill us in the middle of the batch.
    await asyncio.sleep(0.02)


async def main(url: str, prefix: str, group: str) -> None:
    db = Database(url)
    subs: Sequence[Subscription] = (Subscription("traffic.incidents", slow_record),)
    runner = ConsumerRunner(
        bootstrap=KAFKA_BOOTSTRAP,
        group_id=group,
        subscriptions=subs,
        sessions=db.sessions,
        source="/test",
        metrics=Metrics("test"),
        batch_size=1000,
        topic_prefix=prefix,
    )
    await runner.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
