"""The names of the jobs the API enqueues: one spelling for the enqueuer and the worker.

The API never imports `workers/` (the worker sits above it), so it enqueues a job by name. The
worker registers its functions under these names (`workers/settings.py`), and
`tests/workers/test_job_names.py` fails when the API can enqueue a name the worker does not know.
"""

from __future__ import annotations

from typing import Final

CONFIRM_TRIP: Final = "confirm_trip"
RUN_LINKAGE: Final = "run_linkage"
ESCALATE_ALARM: Final = "escalate_alarm"
DELIVER_NOTIFICATION: Final = "deliver_notification"
FETCH_CALL_MEDIA: Final = "fetch_call_media"
END_CALL_AT_LIMIT: Final = "end_call_at_limit"
HANG_UP_CALL: Final = "hang_up_call"
MAKE_PATROL_ROUNDS: Final = "make_patrol_rounds"
RUN_PERSON_IMPORT: Final = "run_person_import"
STORE_PLATE_IMAGES: Final = "store_plate_images"
SETTLE_PARKING_EXIT: Final = "settle_parking_exit"
