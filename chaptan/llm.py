"""The one place that builds a chat model from Settings, for the chapter generator and the assistant."""

from __future__ import annotations

from langchain_openai import ChatOpenAI

from .config import Settings

# One retry rides out a dropped connection or a busy server; more would keep a user waiting on a
# server that is down, when every caller has a fallback or an error message to show instead.
DEFAULT_MAX_RETRIES = 1


def make_chat_model(settings: Settings, *, streaming: bool = False, temperature: float = 0.2,
                    max_retries: int = DEFAULT_MAX_RETRIES) -> ChatOpenAI:
    """A chat model for the configured OpenAI-compatible server.

    Local servers (Ollama, vLLM, llama.cpp) ignore the key but the OpenAI client insists on one,
    so a placeholder stands in when none is set."""
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.openai_base_url or None,
        api_key=settings.openai_api_key or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=max_retries,
        temperature=temperature,
        streaming=streaming,
    )


# The languages Whisper detects, by the code a transcript carries: prompts name the language in
# words because models follow "write in Japanese" far more reliably than "write in ja".
_LANGUAGES = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "as": "Assamese", "az": "Azerbaijani",
    "ba": "Bashkir", "be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali", "bo": "Tibetan",
    "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque",
    "fa": "Persian", "fi": "Finnish", "fo": "Faroese", "fr": "French", "gl": "Galician",
    "gu": "Gujarati", "ha": "Hausa", "haw": "Hawaiian", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian",
    "is": "Icelandic", "it": "Italian", "ja": "Japanese", "jw": "Javanese", "ka": "Georgian",
    "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "la": "Latin",
    "lb": "Luxembourgish", "ln": "Lingala", "lo": "Lao", "lt": "Lithuanian", "lv": "Latvian",
    "mg": "Malagasy", "mi": "Maori", "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian",
    "mr": "Marathi", "ms": "Malay", "mt": "Maltese", "my": "Burmese", "ne": "Nepali", "nl": "Dutch",
    "nn": "Norwegian Nynorsk", "no": "Norwegian", "oc": "Occitan", "pa": "Punjabi", "pl": "Polish",
    "ps": "Pashto", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sa": "Sanskrit",
    "sd": "Sindhi", "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian", "sn": "Shona", "so": "Somali",
    "sq": "Albanian", "sr": "Serbian", "su": "Sundanese", "sv": "Swedish", "sw": "Swahili",
    "ta": "Tamil", "te": "Telugu", "tg": "Tajik", "th": "Thai", "tk": "Turkmen", "tl": "Tagalog",
    "tr": "Turkish", "tt": "Tatar", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek",
    "vi": "Vietnamese", "yi": "Yiddish", "yo": "Yoruba", "yue": "Cantonese", "zh": "Chinese",
}


def language_name(code: str) -> str:
    """'ja' -> 'Japanese'; an unknown code comes back as it is, an empty one as ''."""
    code = code.strip().lower()
    return _LANGUAGES.get(code, code)
