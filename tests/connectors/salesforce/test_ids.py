"""Salesforce record ids: 15 characters get their case-safe suffix, 18 keep theirs."""

from __future__ import annotations

import pytest

from connectors.salesforce.ids import NotASalesforceId, case_safe_id


@pytest.mark.parametrize(
    ("given", "full"),
    [
        # the worked example of the conversion (3 chunks, uppercase bits read right to left)
        ("500x000000003TR", "500x000000003TRAAY"),
        ("00558000001N0Ke", "00558000001N0KeAAK"),
        ("70130000001tcyI", "70130000001tcyIAAQ"),
        # the same characters in another case are another record
        ("0034000001lrbM5", "0034000001lrbM5AAI"),
        ("0034000001lRBM5", "0034000001lRBM5AAO"),
        # every bit of a chunk set: the suffix alphabet's last character
        ("ABCDE0000000000", "ABCDE00000000005AA"),
        ("00Q5g0000000002", "00Q5g0000000002EAA"),
        ("00Q5g0000000002EAA", "00Q5g0000000002EAA"),
        # an 18-character id in the wrong case is brought back to the case its suffix encodes
        ("00q5G0000000002eaa", "00Q5g0000000002EAA"),
        ("0034000001LRBM5AAI", "0034000001lrbM5AAI"),
    ],
)
def test_ids_are_given_their_18_character_form(given, full):
    assert case_safe_id(given) == full


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("garbage", "'garbage': not a Salesforce id: 15 or 18 letters/digits"),
        ("00Q5g000000000", "'00Q5g000000000': not a Salesforce id: 15 or 18 letters/digits"),
        ("00Q5g0000000002 ", "'00Q5g0000000002 ': not a Salesforce id: 15 or 18 letters/digits"),
        ("00Q5g-000000002", "'00Q5g-000000002': not a Salesforce id: 15 or 18 letters/digits"),
        ("00Q5g0000000002E", "'00Q5g0000000002E': not a Salesforce id: 15 or 18 letters/digits"),
        (
            "00Q5g0000000002EA9",
            "'00Q5g0000000002EA9': not a Salesforce id: the last 3 of 18 characters are letters "
            "or digits 0-5",
        ),
        (
            # the suffix says the first character is uppercase, but it is a digit
            "00Q5g0000000002FAA",
            "'00Q5g0000000002FAA': not a Salesforce id: its last 3 characters do not match the "
            "first 15",
        ),
    ],
)
def test_what_is_no_id_is_refused_with_why(given, message):
    with pytest.raises(NotASalesforceId) as caught:
        case_safe_id(given)
    assert str(caught.value) == message
