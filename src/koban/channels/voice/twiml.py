"""Every TwiML document the voice channel serves, built with twilio's ``VoiceResponse`` (pure)."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from koban.channels.voice.script import VOICES, Speech, key_phrase, normalize_language, phrase


def _say(target: VoiceResponse, text: str, language: str) -> None:
    lang = normalize_language(language)
    target.say(text, voice=VOICES[lang], language=lang)


def page_document(
    speech: Speech, *, gather_url: str, repeat_url: str | None, gather_timeout: int, voice: str | None = None
) -> str:
    """The message and menu inside one ``<Gather>``; no key → play again (``repeat_url``) or hang up."""
    vr = VoiceResponse()
    gather = vr.gather(input="dtmf", num_digits=1, timeout=gather_timeout, action=gather_url, method="POST")
    gather.say(speech.text, voice=voice or speech.voice, language=speech.language)
    menu = key_phrase(speech.language, "menu", speech.words)
    gather.say(menu, voice=voice or speech.voice, language=speech.language)
    if repeat_url is not None:
        vr.redirect(repeat_url, method="POST")
    else:
        vr.say(phrase(speech.language, "goodbye"), voice=voice or speech.voice, language=speech.language)
        vr.hangup()
    return str(vr)


def say_and_hangup(text: str, language: str) -> str:
    vr = VoiceResponse()
    _say(vr, text, language)
    vr.hangup()
    return str(vr)


def say_and_redirect(text: str, language: str, url: str) -> str:
    vr = VoiceResponse()
    _say(vr, text, language)
    vr.redirect(url, method="POST")
    return str(vr)


def hangup() -> str:
    vr = VoiceResponse()
    vr.hangup()
    return str(vr)
