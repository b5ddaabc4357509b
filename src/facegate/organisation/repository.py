"""SQL for the processor and sites. Keyword-only; the caller owns the transaction."""

from __future__ import annotations

from ..clock import parse_time
from ..errors import StorageError
from ..storage.connection import Connection
from ..texts import Text
from .models import Processor, Site, SiteType

__all__ = ["get_processor", "get_site", "insert_processor", "insert_site", "list_sites"]


def insert_processor(conn: Connection, *, processor: Processor) -> None:
    conn.execute(
        "INSERT INTO processors (id, name, contact, credit_code, jurisdiction, province, "
        "security_measures, registered_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        (processor.name.to_json(), processor.contact.to_json(), processor.credit_code,
         processor.jurisdiction, processor.province.to_json(),
         processor.security_measures.to_json(), processor.registered_at.isoformat()))


def _text(value: object, where: str) -> Text:
    """A text column (a JSON object of language to words since migration 0011)."""
    try:
        return Text.from_json(str(value))
    except (ValueError, TypeError) as exc:
        raise StorageError(f"{where} does not hold text per language: {exc}",
                           details={"field": where}) from None


def get_processor(conn: Connection) -> Processor | None:
    row = conn.execute("SELECT name, contact, credit_code, jurisdiction, province, "
                       "security_measures, registered_at FROM processors WHERE id = 1").fetchone()
    if row is None:
        return None
    return Processor(name=_text(row[0], "processor name"),
                     contact=_text(row[1], "processor contact"), credit_code=row[2],
                     jurisdiction=row[3], province=_text(row[4], "processor province"),
                     security_measures=_text(row[5], "processor security_measures"),
                     registered_at=parse_time(row[6]))


def insert_site(conn: Connection, *, site: Site) -> None:
    conn.execute(
        "INSERT INTO sites (key, name, site_type, public_place, capture_zone, signage_attested, "
        "registered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (site.key, site.name.to_json(), site.site_type.value, int(site.public_place),
         site.capture_zone,
         int(site.signage_attested), site.registered_at.isoformat()))


_SITE_COLUMNS = "key, name, site_type, public_place, capture_zone, signage_attested, registered_at"


def _site(row: tuple[object, ...]) -> Site:
    return Site(key=str(row[0]), name=_text(row[1], f"site {row[0]} name"),
                site_type=SiteType(str(row[2])),
                public_place=bool(row[3]),
                capture_zone=None if row[4] is None else str(row[4]),
                signage_attested=bool(row[5]), registered_at=parse_time(str(row[6])))


def get_site(conn: Connection, *, key: str) -> Site | None:
    row = conn.execute(f"SELECT {_SITE_COLUMNS} FROM sites WHERE key = ?", (key,)).fetchone()
    return None if row is None else _site(row)


def list_sites(conn: Connection) -> list[Site]:
    return [_site(r) for r in conn.execute(f"SELECT {_SITE_COLUMNS} FROM sites ORDER BY key")]
