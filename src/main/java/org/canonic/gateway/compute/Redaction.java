package org.canonic.gateway.compute;

import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes secrets out of text that came from a provider before the gateway repeats it (admin answers, the log,
 * {@code tracked-instances.jsonl}): a provider's status or error message can echo the container's command line, and
 * with it the instance's vLLM {@code --api-key}. Known secrets (the account key of the provider that answered, an
 * instance's key) are replaced wherever they appear; anything shaped like a credential is replaced by its shape: the
 * value of an {@code --api-key} flag (as {@code --api-key=v}, {@code --api-key v} or a JSON list
 * {@code "--api-key","v"}), a bearer token, and {@code key=}/{@code token:}/{@code secret}/{@code password} values.
 */
public final class Redaction {

    public static final String REDACTED = "[redacted]";

    private static final Pattern API_KEY_FLAG = Pattern.compile(
            "(?i)(--api[-_]key)(\\\\?[\"']?\\s*[=,:]?\\s*\\\\?[\"']?\\s*)([^\\s\"'\\\\,\\]}]+)");
    private static final Pattern BEARER = Pattern.compile("(?i)(bearer\\s+)[A-Za-z0-9._~+/=-]{4,}");
    private static final Pattern NAMED = Pattern.compile(
            "(?i)((?:api[-_]?key|access[-_]?token|token|secret|password|passwd)\\\\?[\"']?\\s*[:=]\\s*\\\\?[\"']?)"
                    + "([^\\s\"'\\\\,}&]{4,})");
    /** Shorter strings are not treated as known secrets: they would blank out ordinary words. */
    static final int MIN_KNOWN_LENGTH = 8;

    private Redaction() {
    }

    /** {@code text} without credential-shaped values; null stays null. */
    public static String scrub(String text) {
        return scrub(text, java.util.List.of());
    }

    /** {@code text} without {@code known} secrets and without credential-shaped values; null stays null. */
    public static String scrub(String text, Collection<String> known) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String secret : known) {
            if (secret != null && secret.length() >= MIN_KNOWN_LENGTH) {
                out = out.replace(secret, REDACTED);
            }
        }
        out = API_KEY_FLAG.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + REDACTED));
        out = BEARER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + REDACTED));
        out = NAMED.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + REDACTED));
        return out;
    }
}
