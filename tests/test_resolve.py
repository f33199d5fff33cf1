"""Name resolution: exact id, case/punctuation variants, fuzzy, ambiguous, unknown."""

from __future__ import annotations

import datetime as dt

import pytest

from dlrig.catalog.core import Catalog
from dlrig.catalog.resolve import normalize
from dlrig.errors import AmbiguousPartError, PartNotFoundError
from dlrig.parts import Category, Gpu, GpuChip

SRC = "https://example.com/spec"


def _gpu(id_: str, name: str, aliases: tuple[str, ...] = ()) -> Gpu:
    return Gpu(
        id=id_,
        name=name,
        brand=name.split()[0],
        aliases=aliases,
        source=SRC,
        chip="geforce-rtx-4090",
        vram_gib=24,
        tdp_w=450,
        price_usd=1599,
        price_date=dt.date(2022, 10, 12),
        price_source="launch MSRP",
    )


@pytest.fixture()
def cat() -> Catalog:
    chip = GpuChip(
        id="geforce-rtx-4090",
        name="GeForce RTX 4090",
        vendor="nvidia",
        architecture="Ada Lovelace",
        source=SRC,
        aliases=("RTX 4090",),
    )
    return Catalog(
        [
            _gpu(
                "nvidia-rtx-4090-fe", "NVIDIA GeForce RTX 4090 Founders Edition", ("RTX 4090 FE",)
            ),
            _gpu("asus-tuf-rtx-4090-oc", "ASUS TUF Gaming GeForce RTX 4090 OC"),
            _gpu("msi-rtx-4090-suprim-x", "MSI GeForce RTX 4090 SUPRIM X 24G"),
            _gpu("msi-rtx-4090-suprim-liquid", "MSI GeForce RTX 4090 SUPRIM LIQUID X 24G"),
        ],
        [chip],
    )


def test_normalize() -> None:
    assert normalize("RTX-4090  F.E.") == "rtx4090fe"


def test_exact_id(cat: Catalog) -> None:
    assert cat.resolve("asus-tuf-rtx-4090-oc").id == "asus-tuf-rtx-4090-oc"


@pytest.mark.parametrize(
    "text",
    [
        "nvidia geforce rtx 4090 founders edition",
        "NVIDIA GeForce RTX-4090 Founders Edition",
        "rtx 4090 fe",
        "RTX4090-FE",
    ],
)
def test_case_and_punctuation_variants(cat: Catalog, text: str) -> None:
    assert cat.resolve(text).id == "nvidia-rtx-4090-fe"


def test_misspelt_word_is_read_with_a_note(cat: Catalog) -> None:
    found = cat.match("ASUS TUF Gamng GeForce RTX 4090 OC")
    assert found.part.id == "asus-tuf-rtx-4090-oc"
    assert found.note == (
        "'ASUS TUF Gamng GeForce RTX 4090 OC' matched as 'ASUS TUF Gaming GeForce RTX 4090 OC'"
        " (read 'gamng' as 'gaming')"
    )
    assert cat.match("asus-tuf-rtx-4090-oc").note is None  # exact: nothing to confirm


def test_model_tokens_are_never_guessed(cat: Catalog) -> None:
    # '0C' holds a digit: a model token, so it must match exactly (it does not: 'OC')
    with pytest.raises(PartNotFoundError) as err:
        cat.resolve("ASUS TUF Gaming GeForce RTX 4090 0C")
    assert err.value.candidates[0] == "ASUS TUF Gaming GeForce RTX 4090 OC"
    assert "you wrote '0'" in err.value.hint


def test_ambiguous_lists_candidates(cat: Catalog) -> None:
    with pytest.raises(AmbiguousPartError) as err:
        cat.resolve("MSI GeForce RTX 4090 SUPRIM")
    assert set(err.value.candidates) == {
        "MSI GeForce RTX 4090 SUPRIM X 24G",
        "MSI GeForce RTX 4090 SUPRIM LIQUID X 24G",
    }


def test_unknown_suggests(cat: Catalog) -> None:
    with pytest.raises(PartNotFoundError) as err:
        cat.resolve("GeForce RTX 4090 Foundry")  # no part has 'foundry' or a near-spelling
    assert err.value.candidates[0] == "NVIDIA GeForce RTX 4090 Founders Edition"
    with pytest.raises(PartNotFoundError) as err:
        cat.resolve("Radeon RX 7900 XTX")
    assert err.value.message == "unknown part 'Radeon RX 7900 XTX'"
    assert err.value.candidates == [] and "dlrig catalog search" in err.value.hint


def test_category_restricts(cat: Catalog) -> None:
    with pytest.raises(PartNotFoundError):
        cat.resolve("nvidia-rtx-4090-fe", Category.CPU)


def test_get_unknown_id_suggests(cat: Catalog) -> None:
    with pytest.raises(PartNotFoundError) as err:
        cat.get("nvidia-rtx-4090-f")
    assert "nvidia-rtx-4090-fe" in err.value.candidates


def test_chip_resolution(cat: Catalog) -> None:
    assert cat.chip("RTX 4090").id == "geforce-rtx-4090"
    assert cat.chip("geforce rtx 4090").id == "geforce-rtx-4090"


def test_search_all_words(cat: Catalog) -> None:
    # only the two SUPRIM cards hold both words; sorted by name
    assert [p.id for p in cat.search("suprim 4090")] == [
        "msi-rtx-4090-suprim-liquid",
        "msi-rtx-4090-suprim-x",
    ]


def test_filters(cat: Catalog) -> None:
    assert len(cat.list(Category.GPU, ["vram_gib>=24"])) == 4
    assert len(cat.list(Category.GPU, ["name~suprim"])) == 2
    assert cat.list(Category.GPU, ["brand=asus"])[0].id == "asus-tuf-rtx-4090-oc"


def test_duplicate_ids_rejected() -> None:
    from dlrig.errors import CatalogError

    g = _gpu("a", "A card")
    with pytest.raises(CatalogError):
        Catalog([g, g], [])


def test_search_does_not_pad_with_unrelated_parts(catalog) -> None:  # type: ignore[no-untyped-def]
    names = [p.name for p in catalog.search("2080 ti")]
    assert names and all("2080 Ti" in n for n in names)


def test_fuzzy_ranking_prefers_the_whole_name(catalog) -> None:  # type: ignore[no-untyped-def]
    first = catalog.search("rtx 4090 foundrs")[0]
    assert first.name == "NVIDIA GeForce RTX 4090 Founders Edition"
