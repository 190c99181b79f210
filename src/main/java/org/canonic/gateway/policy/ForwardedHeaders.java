package org.canonic.gateway.policy;

import io.vertx.core.MultiMap;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which client headers travel upstream: an allow-list, not a deny-list. A deny-list forwards whatever a client
 * invents (a 19 KB {@code x-padding} that makes the backend answer 431, a {@code Forwarded} that lies about the
 * client), so one client could make a backend refuse the gateway's own requests and open its breaker for everyone.
 *
 * <p>Forwarded: {@code User-Agent} and the names in {@code gateway.forward-headers}, as long as their lines together
 * stay within {@code gateway.limits.max-forwarded-headers-size}; a header that would go past it is dropped, never
 * sent. Never forwarded: credentials and cookies (upstream gets the backend's own key), hop-by-hop and encoding
 * headers, {@code Host}, {@code Forwarded}/{@code X-Forwarded-*}/{@code Via} (the gateway does not tell backends who
 * its clients are: they are third-party GPU hosts, and vLLM has no use for it), and anything the gateway sets itself
 * (content type, accept, encoding, request id). Values with control characters are dropped too: they would fail the
 * upstream request, and the failure would be counted against the backend.
 */
final class ForwardedHeaders {

    private static final Logger LOG = Logger.getLogger(ForwardedHeaders.class);
    private static final String ALWAYS = "user-agent";
    /** {@code name: value\r\n}: what a header line adds to a request head besides its name and value. */
    private static final int LINE_OVERHEAD = 4;

    /**
     * Case-insensitive, so a client's header name is looked up as sent, without a lower-cased copy per header. Names
     * arrive decoded as ISO-8859-1, where no other character folds onto an ASCII letter, so this matches exactly the
     * names the lower-cased lookup matched.
     */
    private final Set<String> allowed = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    private final long maxBytes;

    /**
     * @param names    the configured allow-list ({@code none} forwards only {@code User-Agent}); names the gateway
     *                 sets itself are refused at boot by {@code BootChecks}
     * @param maxBytes the most bytes the forwarded header lines may add to an upstream request
     */
    ForwardedHeaders(List<String> names, long maxBytes) {
        allowed.add(ALWAYS);
        for (String name : names) {
            String lower = name.strip().toLowerCase(Locale.ROOT);
            if (!lower.isEmpty() && !lower.equals("none")) {
                allowed.add(lower);
            }
        }
        this.maxBytes = maxBytes;
    }

    /** The client headers to send upstream, in the order received. */
    MultiMap select(MultiMap client, String requestId) {
        MultiMap forward = MultiMap.caseInsensitiveMultiMap();
        long bytes = 0;
        for (var header : client) {
            String name = header.getKey();
            if (!allowed.contains(name)) {
                continue;
            }
            String value = header.getValue();
            long line = name.length() + value.length() + LINE_OVERHEAD;
            if (bytes + line > maxBytes || !printable(value)) {
                LOG.debugf("Request %s: header %s (%d bytes) not forwarded: over the forwarded-header limit or not "
                        + "printable", requestId, name, value.length());
                continue;
            }
            bytes += line;
            forward.add(name, value);
        }
        return forward;
    }

    /** Visible ASCII, spaces and tabs: what every HTTP implementation accepts in a header value. */
    private static boolean printable(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c > 0x7e) {
                return false;
            }
        }
        return true;
    }
}
