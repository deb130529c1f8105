from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from koban.channels.voice.webhook import signature_valid
from tests.channels.voice.support import make_settings

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_signature_vector_from_twilio_sdk_tests():
    assert RequestValidator("12345").compute_signature(URL, PARAMS) == EXPECTED


def test_either_active_auth_token_validates_during_rotation():
    form = FormData(list(PARAMS.items()))
    rotating = make_settings(auth_tokens=("new-token", "12345"))
    assert signature_valid(rotating, URL, form, EXPECTED)
    assert not signature_valid(make_settings(auth_tokens=("new-token",)), URL, form, EXPECTED)


def test_a_changed_parameter_breaks_the_signature():
    form = FormData(list({**PARAMS, "Digits": "1"}.items()))
    assert not signature_valid(make_settings(auth_tokens=("12345",)), URL, form, EXPECTED)
