"""What each CloudFront call does, apart from HTTP: authorize, validate, act, describe.

Mirrored from CloudFront ("CreateInvalidation", "Invalidate files", "Quotas"):

- Every call is authorized with IAM before anything is read: the action is
  ``cloudfront:<Operation>`` on the distribution's ARN (ListDistributions has no
  resource: ``*``). So a caller without the permission learns nothing, not even whether
  the distribution exists; otherwise an unknown id is ``NoSuchDistribution``.
- A batch's ``Quantity`` must be the number of its ``Items`` (``InconsistentQuantities``)
  and it must name at least one path; each path is checked as CloudFront checks it
  (:func:`overcast.local.cdn.paths.check_invalidation_path`, ``InvalidArgument``).
- Quotas: "Invalidation requests: file invalidations in progress: 3,000" and "wildcard
  invalidations in progress: 15" per distribution (``TooManyInvalidationsInProgress``).
  Local invalidations complete before the answer, so only one request's paths count.
- ``CallerReference``: "If you make a second invalidation request with the same value
  for CallerReference, and if the rest of the request is the same, CloudFront doesn't
  create a new invalidation request. Instead, CloudFront returns information about the
  invalidation request that you previously created"; with other paths it is
  ``InvalidationBatchAlreadyExists``. Paths are compared as a set: their order is not
  part of what is invalidated.
- The invalidation's effect (the edge dropping what matches) happens before the
  batch is recorded and answered, so its status is ``Completed`` straight away. A crash
  in between leaves no record, and a retry with the same reference invalidates again:
  harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from overcast.local.cdn.paths import InvalidInvalidationPath, check_invalidation_path
from overcast.local.cloudfront import errors
from overcast.local.cloudfront.directory import DistributionDirectory, DistributionRecord
from overcast.local.cloudfront.ids import distribution_arn, new_invalidation_id
from overcast.local.cloudfront.store import Invalidation, InvalidationStore, Page
from overcast.local.cloudfront.xml import Batch
from overcast.local.iam.evaluation import AuthorizationRequest, PolicyEvaluator
from overcast.local.iam.principals import Principal

MAX_FILE_PATHS = 3000
MAX_WILDCARD_PATHS = 15
DEFAULT_MAX_ITEMS = 100


@dataclass(frozen=True)
class Created:
    """A CreateInvalidation's outcome: the batch, and whether this call made it."""

    invalidation: Invalidation
    created: bool
    removed: int = 0  # cached objects the edge dropped (0 for a repeated reference)


class CloudFrontOperations:
    """The invalidation and distribution calls, for an authenticated ``principal``."""

    def __init__(
        self,
        directory: DistributionDirectory,
        store: InvalidationStore,
        evaluator: PolicyEvaluator,
        *,
        account_id: str,
        clock: Callable[[], datetime],
        new_id: Callable[[], str] = new_invalidation_id,
    ) -> None:
        self.directory = directory
        self._store = store
        self._evaluator = evaluator
        self._account_id = account_id
        self._clock = clock
        self._new_id = new_id

    def create_invalidation(
        self, principal: Principal, distribution_id: str, batch: Callable[[], Batch]
    ) -> Created:
        """Invalidate ``batch``'s paths (parsed after authorization) on the distribution."""
        record = self._distribution(principal, "CreateInvalidation", distribution_id)
        parsed = batch()
        paths = _checked_paths(parsed)
        earlier = self._store.by_reference(distribution_id, parsed.caller_reference)
        if earlier is not None:
            return Created(_same_batch(earlier, parsed.paths), created=False)
        removed = record.invalidate(paths)
        invalidation = Invalidation(
            id=self._new_id(),
            distribution_id=distribution_id,
            caller_reference=parsed.caller_reference,
            paths=tuple(parsed.paths),
            create_time=self._clock(),
        )
        kept = self._store.add(invalidation)
        created = kept.id == invalidation.id
        return Created(_same_batch(kept, parsed.paths), created, removed if created else 0)

    def get_invalidation(
        self, principal: Principal, distribution_id: str, invalidation_id: str
    ) -> Invalidation:
        self._distribution(principal, "GetInvalidation", distribution_id)
        found = self._store.get(distribution_id, invalidation_id)
        if found is None:
            raise errors.NoSuchInvalidation()
        return found

    def list_invalidations(
        self, principal: Principal, distribution_id: str, marker: str, max_items: int
    ) -> Page:
        self._distribution(principal, "ListInvalidations", distribution_id)
        return self._store.page(distribution_id, marker or None, max_items)

    def get_distribution(self, principal: Principal, distribution_id: str) -> DistributionRecord:
        return self._distribution(principal, "GetDistribution", distribution_id)

    def list_distributions(
        self, principal: Principal, marker: str, max_items: int
    ) -> tuple[list[DistributionRecord], str | None]:
        """A page of distributions by id after ``marker``, and the next page's marker."""
        self._authorize(principal, "ListDistributions", "*")
        records = [record for record in self.directory.all() if record.id > marker]
        page = records[:max_items]
        return page, page[-1].id if len(records) > max_items and page else None

    def _distribution(
        self, principal: Principal, operation: str, distribution_id: str
    ) -> DistributionRecord:
        self._authorize(principal, operation, distribution_arn(self._account_id, distribution_id))
        record = self.directory.get(distribution_id)
        if record is None:
            raise errors.NoSuchDistribution()
        return record

    def _authorize(self, principal: Principal, operation: str, resource: str) -> None:
        action = f"cloudfront:{operation}"
        request = AuthorizationRequest(principal, action, resource)
        if not self._evaluator.allowed(request):
            caller = principal.session_arn or principal.arn
            raise errors.AccessDenied(
                f"User: {caller} is not authorized to perform: {action} on resource: {resource}"
            )


def _checked_paths(batch: Batch) -> list[str]:
    """The batch's paths as the edge matches them, or the error CloudFront answers."""
    if batch.quantity != len(batch.paths):
        raise errors.InconsistentQuantities()
    if not batch.paths:
        raise errors.InvalidArgument("Your request is missing one or more invalidation paths.")
    try:
        checked = [check_invalidation_path(path) for path in batch.paths]
    except InvalidInvalidationPath as error:
        raise errors.InvalidArgument(str(error)) from None
    wildcards = sum(1 for path in checked if path.endswith("*"))
    if wildcards > MAX_WILDCARD_PATHS or len(checked) - wildcards > MAX_FILE_PATHS:
        raise errors.TooManyInvalidationsInProgress(
            "Processing your request would cause you to exceed the maximum number of "
            f"in-progress invalidations: {MAX_FILE_PATHS} file paths and "
            f"{MAX_WILDCARD_PATHS} wildcard paths per distribution."
        )
    return checked


def _same_batch(earlier: Invalidation, paths: Sequence[str]) -> Invalidation:
    if set(earlier.paths) != set(paths):
        raise errors.InvalidationBatchAlreadyExists()
    return earlier
