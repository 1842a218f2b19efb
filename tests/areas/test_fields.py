import pytest

from areas.importers.fields import CODE_FIELDS, NAME_FIELDS, find_field
from areas.models import Level


@pytest.mark.parametrize(
    ("level", "fields", "code", "name"),
    [
        (Level.BOROUGH, ["LAD22NM", "LAD22CD"], "LAD22CD", "LAD22NM"),
        (Level.BOROUGH, ["NAME", "GSS_CODE", "HECTARES", "ONS_INNER"], "GSS_CODE", "NAME"),
        (Level.BOROUGH, ["LAD21CD", "LAD22CD", "LAD22NM", "LAD21NM"], "LAD22CD", "LAD22NM"),
        (Level.LSOA, ["lsoa21cd", "lsoa21nm", "msoa21cd", "lad22cd"], "lsoa21cd", "lsoa21nm"),
        (Level.LSOA, ["LSOA21CD", "LSOA21NM", "LSOA21NMW"], "LSOA21CD", "LSOA21NM"),
        (Level.LSOA, ["LSOA11CD", "LSOA11NM", "MSOA11CD"], "LSOA11CD", "LSOA11NM"),
        (Level.WARD, ["FID", "WD24CD", "WD24NM", "WD24NMW", "BNG_E"], "WD24CD", "WD24NM"),
        (Level.WARD, ["WD22CD", "WD22NM", "LAD22CD"], "WD22CD", "WD22NM"),
        (Level.WARD, ["NAME", "GSS_CODE", "DISTRICT", "LAGSSCODE"], "GSS_CODE", "NAME"),
        (Level.REGION, ["RGN21CD", "RGN21NM"], "RGN21CD", "RGN21NM"),
    ],
)
def test_official_layouts(level, fields, code, name):
    assert find_field(fields=fields, patterns=CODE_FIELDS[level]) == code
    assert find_field(fields=fields, patterns=NAME_FIELDS[level]) == name


def test_no_code_field_for_another_level():
    # An LSOA file has a borough code (lad22cd) but no ward code.
    fields = ["lsoa21cd", "lsoa21nm", "lad22cd"]
    assert find_field(fields=fields, patterns=CODE_FIELDS[Level.WARD]) is None
