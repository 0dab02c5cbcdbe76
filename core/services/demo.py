"""Realistic demo data: a small city tree and a year of plausible responses."""

from __future__ import annotations

import io
import random
import uuid as uuidlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.instrument import Instrument
from core.models import Office, Response, User
from core.services.mixing import day_start, vn_day
from core.services.offices import import_offices
from core.services.tallies import TallyAccumulator, TallyRow
from core.timeutil import VN_TZ, month_of, shift_month, utcnow

#: Today's structure (local government has two levels since 1 July 2025: the city, then
#: communes and wards, no districts): the city, its departments and the branches of its
#: public-service centre, and the communes and wards each branch serves. Districts
#: (level ``district``) stay possible for historical data (see README, "Offices").
DEMO_OFFICES = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
STP,Sở Tư pháp,HN,department
STC,Sở Tài chính,HN,department
SNNMT,Sở Nông nghiệp và Môi trường,HN,department
SXD,Sở Xây dựng,HN,department
CN1,Chi nhánh số 1 – Trung tâm Phục vụ hành chính công,HN,branch
CN2,Chi nhánh số 2 – Trung tâm Phục vụ hành chính công,HN,branch
CN3,Chi nhánh số 3 – Trung tâm Phục vụ hành chính công,HN,branch
CN1-BD,UBND phường Ba Đình,CN1,commune
CN1-NH,UBND phường Ngọc Hà,CN1,commune
CN1-GV,UBND phường Giảng Võ,CN1,commune
CN2-HK,UBND phường Hoàn Kiếm,CN2,commune
CN2-CN,UBND phường Cửa Nam,CN2,commune
CN3-DA,UBND xã Đông Anh,CN3,commune
CN3-TL,UBND xã Thư Lâm,CN3,commune
CN3-PT,UBND xã Phúc Thịnh,CN3,commune
"""

COMMENTS = [
    "Cán bộ hướng dẫn nhiệt tình, chu đáo.",
    "Phải chờ khá lâu, đề nghị bố trí thêm quầy vào buổi sáng.",
    "Nhà vệ sinh cần sạch sẽ hơn.",
    "Nên có thêm ghế ngồi chờ cho người cao tuổi.",
    "Thủ tục nhanh gọn, cảm ơn.",
    "Bảng niêm yết thủ tục chữ nhỏ, khó đọc.",
    "Mong được nhận kết quả qua bưu điện.",
    "Máy lấy số thứ tự hay bị hỏng.",
    "Công chức trả lời rõ ràng, dễ hiểu.",
    "Không biết gửi góp ý ở đâu.",
]
CHANNEL_WEIGHTS = (("kiosk", 55), ("qr", 25), ("generic", 5), ("paper", 15))


def _answer(rng: random.Random, p_satisfied: float) -> str:
    r = rng.random()
    if r < p_satisfied:
        return "5" if rng.random() < 0.45 else "4"
    return rng.choice("3332211")


def generate_responses(instrument: Instrument, office_ids: list[int], months: list[str],
                       rng: random.Random, per_month: tuple[int, int] = (40, 140)):
    """Yield Response row dicts (not stored) for each office and month."""
    channels = [c for c, _w in CHANNEL_WEIGHTS]
    weights = [w for _c, w in CHANNEL_WEIGHTS]
    codes = instrument.criterion_codes
    areas = instrument.expectation_area_codes()
    now = utcnow()
    for office_id in office_ids:
        base = rng.uniform(0.78, 0.95)
        trend = rng.uniform(-0.004, 0.008)
        crit_shift = {c: rng.uniform(-0.05, 0.03) for c in codes}
        for k, month in enumerate(months):
            first = datetime(int(month[:4]), int(month[5:7]), 1, 8, tzinfo=VN_TZ)
            for _ in range(rng.randint(*per_month)):
                p = min(0.99, base + trend * k)
                chars = []
                for code in codes:
                    na = 0.25 if code.startswith("V.") else 0.03
                    if rng.random() < na:
                        chars.append("0")
                    else:
                        extra = -0.08 if code.startswith("V.") else 0.0
                        chars.append(_answer(rng, p + crit_shift[code] + extra))
                day = rng.randint(0, 27)
                moment = (first + timedelta(days=day, minutes=rng.randint(0, 540))).astimezone(UTC)
                if moment > now:
                    continue
                moment = day_start(vn_day(moment))  # as released answers are: the day only
                exp = ({a: rng.choice((1, 2, 3)) for a in rng.sample(areas, 3)}
                       if rng.random() < 0.3 else None)
                yield {
                    "uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)),
                    "office_id": office_id, "instrument_id": instrument.id,
                    "channel": rng.choices(channels, weights)[0],
                    "answers": "".join(chars), "month": month_of(moment),
                    "submitted_at": moment, "received_at": moment,
                    "comment": rng.choice(COMMENTS) if rng.random() < 0.08 else None,
                    "expectations": exp, "counted": True,
                }


def load_demo(instrument: Instrument, months: int = 12, seed: int = 2022,
              progress: Callable[[int], None] | None = None) -> int:
    """Create the demo offices and ``months`` months of responses ending this month.
    Returns the number of responses stored. ``progress(1)`` is called after each office
    (see :func:`demo_office_count` for the total)."""
    import_offices(io.StringIO(DEMO_OFFICES))
    rng = random.Random(seed)
    current = month_of(utcnow())
    month_list = [shift_month(current, -k) for k in range(months - 1, -1, -1)]
    office_ids = list(db.session.scalars(sa.select(Office.id).order_by(Office.code)))
    acc = TallyAccumulator()
    batch: list[dict] = []
    stored = 0
    for office_id in office_ids:  # one office after the other: the same random sequence
        for row in generate_responses(instrument, [office_id], month_list, rng):
            batch.append(row)
            acc.add(TallyRow(row["office_id"], row["month"], row["instrument_id"],
                             row["channel"], row["answers"], row.get("expectations")))
            if len(batch) >= 5000:
                db.session.connection().execute(Response.__table__.insert(), batch)
                stored += len(batch)
                batch.clear()
        if progress is not None:
            progress(1)
    if batch:
        db.session.connection().execute(Response.__table__.insert(), batch)
        stored += len(batch)
    acc.write(db.session)
    db.session.commit()
    return stored


def demo_office_count() -> int:
    """How many offices the demo data has (the total of :func:`load_demo`'s progress)."""
    return len(DEMO_OFFICES.strip().splitlines()) - 1


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 0


#: Demo sign-ins created with the demo data (development only), printed by `flask demo-data`.
DEMO_PASSWORD = "demo-sipas-2026"  # noqa: S105 - a published demo sign-in, never in production
DEMO_ACCOUNTS = (("admin", "admin", "HN"), ("truong-cn1", "head", "CN1"))


def demo_accounts() -> list[User]:
    """The demo accounts that still sign in with the published demo password (an account
    that merely has a demo name, with a password of its own, is not one)."""
    from werkzeug.security import check_password_hash

    from core.services.accounts import get_user

    found = []
    for username, _role, _office in DEMO_ACCOUNTS:
        user = get_user(username)
        if user is not None and check_password_hash(user.password_hash, DEMO_PASSWORD):
            found.append(user)
    return found


def remove_demo_accounts(*, actor: str) -> list[str]:
    """Delete the demo accounts (see :func:`demo_accounts`) with their sessions and tokens,
    each in its own audited transaction. Returns their user names."""
    from core.services.accounts import delete_user

    removed = []
    for user in demo_accounts():
        removed.append(user.username)
        delete_user(user, actor=actor)
    return removed


def load_demo_extras(instrument: Instrument) -> list[tuple[str, str]]:
    """Targets for the city and demo accounts, so that a newcomer can sign in and see a
    working dashboard. Returns the (username, role) pairs created."""
    from core.services.accounts import create_user, get_user
    from core.services.offices import get_office
    from core.services.targets import DEFAULT_FILE, import_targets

    with open(DEFAULT_FILE, encoding="utf-8") as stream:
        import_targets(stream, get_office("HN"), instrument, actor="demo")
    created = []
    for username, role, office in DEMO_ACCOUNTS:
        if get_user(username) is None:
            create_user(username, role, office, DEMO_PASSWORD, actor="demo", must_change=False)
            created.append((username, role))
    return created
