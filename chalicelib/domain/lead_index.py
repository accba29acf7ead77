"""What a lead contributes to its list's indexes and counts (pure; no I/O).

Three kinds of entry, all derived from the lead alone, so every writer
computes the same ones and a change is a *difference* of two sets:

- **index attributes** on the lead item itself (`ix_status`, `ix_email`,
  `ix_source`): keys of sparse global secondary indexes that DynamoDB
  maintains with the item, so they can never disagree with it;
- **postings**: one small item per value of a many-valued field (a tag), or
  per optional field (later: filterable custom fields, search words),
  written and deleted in the same transaction or batch as the lead;
- **tallies**: the numbers `GET /lists/{id}/stats` adds up, kept on the
  lead's shard counter item and moved by the same write.

Every key carries the lead's shard, so no index partition takes more than
one shard's share of a list's writes (see docs/data-model.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from chalicelib.domain.custom_index import FilterableField, lead_values
from chalicelib.domain.custom_index import posting_pk as custom_pk
from chalicelib.domain.custom_index import posting_sk as custom_sk
from chalicelib.domain.lead import Lead
from chalicelib.domain.search_words import lead_words

# The filter each sparse GSI answers, by its key attribute on the lead item
# (the indexes themselves are declared in chalicelib/resources.py).
GSI_FOR_FILTER: Mapping[str, str] = {
    "status": "ix_status",
    "email_status": "ix_email",
    "source": "ix_source",
}
# Prefixes of the tally names on a shard counter item.
TALLY_PREFIX: Mapping[str, str] = {
    "status": "s:", "email_status": "e:", "source": "src:", "tag": "t:", "campaign": "c:",
}
SOURCE_KINDS = ("api", "file", "google_sheets", "hubspot", "salesforce")


def source_kind(lead: Lead) -> str:
    """Where a lead came from, as the `source` filter names it."""
    source = lead.source or {}
    kind = source.get("type")
    if isinstance(kind, str) and kind:
        return kind
    # Leads imported before imports named their kind came from files.
    return "file" if "import_id" in source else "api"


def tag_key(tag: str) -> str:
    """Tags match case-insensitively (the filter's rule), so index them casefolded."""
    return tag.casefold()


def gsi_value(list_id: str, shard: int, value: str) -> str:
    return f"{list_id}#{shard:03d}#{value}"


def index_attributes(lead: Lead, shard: int) -> dict[str, str]:
    """The GSI key attributes of a lead item."""
    return {
        "ix_status": gsi_value(lead.list_id, shard, lead.status),
        "ix_email": gsi_value(lead.list_id, shard, lead.email_status),
        "ix_source": gsi_value(lead.list_id, shard, source_kind(lead)),
        "ix_lead": lead.id,
    }


@dataclass(frozen=True, order=True)
class Posting:
    """One posting item's key: `pk` names the term in one shard, `sk` the lead in it."""

    pk: str
    sk: str


def tag_posting_pk(list_id: str, shard: int, tag: str) -> str:
    return f"TAG#{list_id}#{shard:03d}#{tag_key(tag)}"


def word_posting_pk(list_id: str, shard: int, word: str) -> str:
    # Words are grouped by their first two characters: a prefix query reads
    # one group, and no group holds a whole shard's words.
    return f"W#{list_id}#{shard:03d}#{word[:2]}"


def word_sk(word: str, lead_id: str) -> str:
    return f"{word}#L#{lead_id}"


def campaign_posting_pk(list_id: str, shard: int, campaign_id: str) -> str:
    return f"CP#{list_id}#{shard:03d}#{campaign_id}"


# The outreach times a lead is filtered by (`last_activity_at.gte=`, ...): one
# partition a shard each, sort key `<ISO time in UTC>#L#<lead>`, so a range of
# times is a key condition like a custom field's range.
TIME_POSTING_PREFIX: Mapping[str, str] = {"last_activity_at": "LA", "next_follow_up_at": "NF"}


def time_posting_pk(list_id: str, shard: int, name: str) -> str:
    return f"{TIME_POSTING_PREFIX[name]}#{list_id}#{shard:03d}"


def _outreach_postings(lead: Lead, shard: int) -> set[Posting]:
    out = {Posting(campaign_posting_pk(lead.list_id, shard, c), f"L#{lead.id}")
           for c in lead.campaigns}
    for name in TIME_POSTING_PREFIX:
        value = getattr(lead, name)
        if value:
            out.add(Posting(time_posting_pk(lead.list_id, shard, name), word_sk(value, lead.id)))
    return out


def postings(lead: Lead, shard: int,
             fields: Sequence[FilterableField] = ()) -> frozenset[Posting]:
    """Every posting of a lead: its tags, its search words (with the words of its
    filterable text fields), its values of the list's filterable fields, its
    campaigns and its outreach times."""
    tags = {Posting(tag_posting_pk(lead.list_id, shard, tag), f"L#{lead.id}")
            for tag in lead.tags} | _outreach_postings(lead, shard)
    text_keys = [f.key for f in fields if f.type == "text"]
    words = {Posting(word_posting_pk(lead.list_id, shard, word), word_sk(word, lead.id))
             for word in lead_words(lead, text_keys)}
    custom = {Posting(custom_pk(lead.list_id, shard, field), custom_sk(value, lead.id))
              for field, value in lead_values(lead.custom_fields, fields)}
    return frozenset(tags | words | custom)


def posting_changes(before: Lead | None, after: Lead | None, shard: int,
                    fields: Sequence[FilterableField] = ()) -> tuple[list[Posting], list[Posting]]:
    """(postings to put, postings to delete) taking `before` to `after`."""
    old = postings(before, shard, fields) if before is not None else frozenset()
    new = postings(after, shard, fields) if after is not None else frozenset()
    return sorted(new - old), sorted(old - new)


def stepping_stones(before: Lead, after: Lead) -> list[Lead]:
    """Consistent leads between `before` and `after`, for a change too big for
    one transaction with its postings (up to 50 tags out and 50 in, and every
    word changed): first the tags it drops, then the tags it adds; the rest
    of the change (its words, its activity) is the last step."""
    kept = tuple(t for t in before.tags if tag_key(t) in {tag_key(x) for x in after.tags})
    stones: list[Lead] = []
    current = before
    for tags in (kept, after.tags):
        if tags != current.tags:
            current = current.with_changes({"tags": tags}, updated_at=after.updated_at)
            stones.append(current)
    return stones


def tallies(lead: Lead) -> Counter[str]:
    counts: Counter[str] = Counter({
        TALLY_PREFIX["status"] + lead.status: 1,
        TALLY_PREFIX["email_status"] + lead.email_status: 1,
        TALLY_PREFIX["source"] + source_kind(lead): 1,
    })
    for tag in {tag_key(t) for t in lead.tags}:
        counts[TALLY_PREFIX["tag"] + tag] += 1
    for campaign in lead.campaigns:
        counts[TALLY_PREFIX["campaign"] + campaign] += 1
    return counts


def tally_change(before: Lead | None, after: Lead | None) -> Counter[str]:
    """What a change moves on the shard's tallies; zero entries dropped."""
    delta: Counter[str] = Counter()
    if after is not None:
        delta.update(tallies(after))
    if before is not None:
        delta.subtract(tallies(before))
    return Counter({k: v for k, v in delta.items() if v})


@dataclass
class ShardTally:
    """Lead-count and tally deltas per shard, gathered for one atomic write."""

    leads: Counter[int]
    deltas: dict[int, Counter[str]]

    @classmethod
    def empty(cls) -> ShardTally:
        return cls(Counter(), {})

    def add(self, shard: int, before: Lead | None, after: Lead | None) -> None:
        if before is None and after is not None:
            self.leads[shard] += 1
        elif before is not None and after is None:
            self.leads[shard] -= 1
        change = tally_change(before, after)
        if change:
            self.deltas.setdefault(shard, Counter()).update(change)

    def shards(self) -> list[int]:
        touched = {s for s, n in self.leads.items() if n}
        touched.update(s for s, c in self.deltas.items() if any(c.values()))
        return sorted(touched)

    def merge(self, others: Iterable[ShardTally]) -> ShardTally:
        for other in others:
            self.leads.update(other.leads)
            for shard, delta in other.deltas.items():
                self.deltas.setdefault(shard, Counter()).update(delta)
        return self


def stats_from_tallies(items: Iterable[Mapping[str, int]], *,
                       top_tags: int = 20) -> dict[str, object]:
    """Add up shard counter items into the stats the API shows."""
    total = 0
    by: dict[str, Counter[str]] = {name: Counter() for name in TALLY_PREFIX}
    for item in items:
        for key, value in item.items():
            if key == "n":
                total += int(value)
                continue
            for name, prefix in TALLY_PREFIX.items():
                if key.startswith(prefix):
                    by[name][key[len(prefix):]] += int(value)
                    break
    def positive(counts: Counter[str]) -> dict[str, int]:
        return {k: v for k, v in sorted(counts.items()) if v > 0}
    tags = sorted(((k, v) for k, v in by["tag"].items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    campaigns = sorted(((k, v) for k, v in by["campaign"].items() if v > 0),
                       key=lambda kv: (-kv[1], kv[0]))
    return {
        "leads": total,
        "by_status": positive(by["status"]),
        "by_email_status": positive(by["email_status"]),
        "by_source": positive(by["source"]),
        "top_tags": [{"tag": k, "count": v} for k, v in tags[:top_tags]],
        "distinct_tags": len(tags),
        "campaigns": [{"id": k, "leads": v} for k, v in campaigns[:top_tags]],
    }
