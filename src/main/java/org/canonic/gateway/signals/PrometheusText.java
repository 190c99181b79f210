package org.canonic.gateway.signals;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads the few series the gateway needs from a Prometheus text exposition (format 0.0.4, what vLLM's
 * {@code /metrics} serves), without building a model of the whole page: a vLLM page holds a hundred-odd families,
 * histograms mostly, and the gateway wants five of them once a second per backend.
 *
 * <p>The Prometheus Java client only writes this format; no maintained parser resolves from Maven Central, so this is
 * a small one. It follows the format's grammar where it matters: comment and blank lines, a metric name, optional
 * labels with {@code \\}, {@code \"} and {@code \n} escapes inside quoted values, a float value ({@code NaN},
 * {@code +Inf}, {@code -Inf} included) and an optional timestamp. Lines of families that were not asked for are
 * skipped after their name; a line of a wanted family that does not parse makes the whole page {@link Malformed}: a
 * backend that serves garbage is read as having no signals rather than as idle.
 */
public final class PrometheusText {

    /** The series of one family, taken together: vLLM labels by engine and model, and data-parallel engines add up. */
    public record Aggregate(double sum, double max, int series) {

        static final Aggregate NONE = new Aggregate(0, 0, 0);

        Aggregate plus(double value) {
            return new Aggregate(sum + value, series == 0 ? value : Math.max(max, value), series + 1);
        }
    }

    /** A page that is not the text format where it should be. */
    public static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private PrometheusText() {
    }

    /** The wanted families found on the page, by name; a family absent from the page is absent from the map. */
    public static Map<String, Aggregate> read(CharSequence page, Set<String> wanted) throws Malformed {
        Map<String, Aggregate> found = new HashMap<>();
        int length = page.length();
        int line = 0;
        while (line < length) {
            int end = line;
            while (end < length && page.charAt(end) != '\n') {
                end++;
            }
            readLine(page, line, end, wanted, found);
            line = end + 1;
        }
        return found;
    }

    private static void readLine(CharSequence page, int from, int to, Set<String> wanted, Map<String, Aggregate> found)
            throws Malformed {
        int at = skipBlanks(page, from, to);
        if (at == to || page.charAt(at) == '#') {
            return;
        }
        int nameEnd = at;
        while (nameEnd < to && isNameChar(page.charAt(nameEnd))) {
            nameEnd++;
        }
        if (nameEnd == at) {
            // Not a sample line at all (an HTML page, a JSON error): no wanted family can be on it.
            return;
        }
        String name = page.subSequence(at, nameEnd).toString();
        if (!wanted.contains(name)) {
            return;
        }
        at = nameEnd;
        if (at < to && page.charAt(at) == '{') {
            at = skipLabels(page, at, to, name);
        }
        int valueStart = skipBlanks(page, at, to);
        if (valueStart == at) {
            throw new Malformed("no space before the value of " + name);
        }
        int valueEnd = valueStart;
        while (valueEnd < to && !Character.isWhitespace(page.charAt(valueEnd))) {
            valueEnd++;
        }
        double value = parseValue(page.subSequence(valueStart, valueEnd).toString(), name);
        found.put(name, found.getOrDefault(name, Aggregate.NONE).plus(value));
    }

    /** Skips {@code {name="value",...}}; returns the index after the closing brace. */
    private static int skipLabels(CharSequence page, int open, int to, String name) throws Malformed {
        int at = open + 1;
        boolean quoted = false;
        while (at < to) {
            char c = page.charAt(at);
            if (quoted) {
                if (c == '\\') {
                    at++;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '}') {
                return at + 1;
            }
            at++;
        }
        throw new Malformed("unterminated labels of " + name);
    }

    private static double parseValue(String text, String name) throws Malformed {
        switch (text) {
            case "NaN":
                return Double.NaN;
            case "+Inf", "Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            default:
                try {
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new Malformed("value of " + name + " is not a number");
                }
        }
    }

    private static int skipBlanks(CharSequence page, int from, int to) {
        int at = from;
        while (at < to && (page.charAt(at) == ' ' || page.charAt(at) == '\t' || page.charAt(at) == '\r')) {
            at++;
        }
        return at;
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
    }
}
