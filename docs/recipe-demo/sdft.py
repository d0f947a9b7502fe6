"""The SDFT prompt and consistency filter of Prunelab, in Python.

This file mirrors src/distill/sdft-template.ts, src/distill/rewrite-filter.ts and
src/eval/answer-extractor.ts line for line, and Prunelab's test suite runs it against the
TypeScript on a fixture set: same prompts byte for byte, same keep/replace decisions. The
wording (templates, phrases) is not written here: it comes from recipe.json, which Prunelab
generates from its own data. Only the standard library is used, so the check needs nothing
but python3.

JavaScript and Python disagree on some text primitives (what counts as white space, what
\\d and $ match, how a number prints), so those are spelled out below as JavaScript defines them.
"""

import math
import re
import unicodedata
from decimal import Decimal

# ECMAScript's WhiteSpace and LineTerminator code points: what String.prototype.trim and \s use.
# (Python's str.strip and \s also count U+001C-U+001F and U+0085; JavaScript does not.)
JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_SPACE_RUN = re.compile("[" + re.escape(JS_SPACE) + "]+")
# JavaScript's \d is ASCII only.
_NUMBER = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?")
_NUMERIC = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_PLACEHOLDER = re.compile(r"\{(instruction|input|reference)\}")


def js_trim(text):
    return text.strip(JS_SPACE)


def js_trim_end(text):
    return text.rstrip(JS_SPACE)


def js_number_string(value):
    """String(Number(x)) for a finite or infinite float, as ECMAScript's Number::toString writes it."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript asks for.
    shortest = Decimal(repr(abs(value))).as_tuple()
    raw = "".join(str(d) for d in shortest.digits)
    digits = raw.rstrip("0")
    exponent = shortest.exponent + len(raw) - len(digits)
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = mantissa + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + body


def js_number(text):
    """Number(text) for text that matches -?[0-9]+(.[0-9]+)? (the only case the filter needs)."""
    return float(text)


# --- src/eval/answer-extractor.ts -------------------------------------------------------------


def last_number(text):
    found = _NUMBER.findall(text)
    return found[-1] if found else None


def normalize_answer(answer):
    text = js_trim(answer)
    if text.endswith("."):
        text = text[:-1]
    text = _JS_SPACE_RUN.sub(" ", text).lower()
    numeric = text.replace(",", "").replace("$", "")
    if _NUMERIC.fullmatch(numeric):
        return js_number_string(js_number(numeric))
    return text


def answers_match(extracted, reference):
    return extracted is not None and normalize_answer(extracted) == normalize_answer(reference)


def _letter_or_number(ch):
    """JavaScript's [\\p{L}\\p{N}]: any Unicode letter or number."""
    return unicodedata.category(ch)[0] in "LN"


def mentions_whole(text, phrase):
    """Whether text names phrase as whole words, any case, white space runs matching any run."""
    words = [re.escape(w) for w in _JS_SPACE_RUN.split(js_trim(phrase))]
    pattern = re.compile(("[" + re.escape(JS_SPACE) + "]+").join(words), re.IGNORECASE)
    for start in range(len(text) + 1):
        found = pattern.match(text, start)
        if found is None:
            continue
        before_ok = start == 0 or not _letter_or_number(text[start - 1])
        after_ok = found.end() == len(text) or not _letter_or_number(text[found.end()])
        if before_ok and after_ok:
            return True
    return False


# --- src/distill/rewrite-filter.ts ------------------------------------------------------------


def reference_final_answer(reference):
    marked = reference.rfind("####")
    if marked >= 0:
        after = js_trim(reference[marked + 4 :]).split("\n")[0]
        if after != "":
            return after
    return last_number(reference)


def judge_rewrite(rewrite, reference, rules):
    """rules: {"kind": "general" | "math", "mentions": [phrases], "answers": [what a correct general
    response names] (optional)}. Returns {"kept": bool[, "reason", "detail"]}."""
    if js_trim(rewrite) == "":
        return {"kept": False, "reason": "empty", "detail": "the rewrite is empty"}
    lower = rewrite.lower()
    for mention in rules["mentions"]:
        if mention.lower() in lower:
            return {"kept": False, "reason": "mentions-reference", "detail": 'mentions "%s"' % mention}
    if rules["kind"] == "math":
        expected = reference_final_answer(reference)
        got = last_number(rewrite)
        if expected is None:
            return {
                "kept": False,
                "reason": "answer-mismatch",
                "detail": "the reference has no final answer to check against",
            }
        if not answers_match(got, expected):
            shown = "(none)" if got is None else got
            return {
                "kept": False,
                "reason": "answer-mismatch",
                "detail": "last number %s \u2260 reference answer %s" % (shown, expected),
            }
    if rules["kind"] == "general":
        missing = [a for a in rules.get("answers") or [] if not mentions_whole(rewrite, a)]
        if missing:
            return {
                "kept": False,
                "reason": "missing-answer",
                "detail": "does not mention " + ", ".join('"%s"' % m for m in missing),
            }
    return {"kept": True}


# --- src/distill/sdft-template.ts -------------------------------------------------------------


def render_request(template, record):
    """The teacher's request; placeholders are filled in one pass, so braces in the data stay."""
    values = {"instruction": record["instruction"], "input": record["input"], "reference": record["output"]}
    text = template["promptWithoutInput"] if record["input"] == "" else template["prompt"]
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render_prompt(template, record, apply_chat_template=None):
    """The text the teacher continues. apply_chat_template(messages) -> str renders the user's turn
    with the generation prompt (the tokenizer's chat template); None means the plain layout."""
    request = render_request(template, record)
    if apply_chat_template is None:
        head = request + template["plainResponseHeader"]
    else:
        head = apply_chat_template([{"role": "user", "content": request}])
    return head + js_trim_end(template["responseOpener"])


# --- src/distill/distill-dataset.ts -----------------------------------------------------------


def distilled_example(index, record, generated, template, rules):
    """One finished example: the opener plus what the teacher wrote, kept or replaced by the reference."""
    rewrite = js_trim(js_trim_end(template["responseOpener"]) + generated)
    verdict = judge_rewrite(rewrite, record["output"], dict(rules, answers=record.get("answers")))
    example = dict(record)
    example.update({"index": index, "reference": record["output"], "rewrite": rewrite, "kept": verdict["kept"]})
    if verdict["kept"]:
        example["output"] = rewrite
    else:
        example["reason"] = verdict["reason"]
        example["detail"] = verdict["detail"]
    return example
