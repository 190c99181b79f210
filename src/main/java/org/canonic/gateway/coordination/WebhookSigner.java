package org.canonic.gateway.coordination;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Signs a delivery twice over the same body, so that receivers may use either convention:
 * <ul>
 *   <li>Stripe style: {@code X-Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>};</li>
 *   <li>Standard Webhooks: {@code webhook-id}, {@code webhook-timestamp} and
 *       {@code webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>}.</li>
 * </ul>
 * The key is the secret's UTF-8 bytes in both. (A Standard Webhooks library expects {@code whsec_<base64 key>}:
 * give it {@code "whsec_" + base64(secret)}.) The timestamp is signed so receivers can refuse replays.
 */
public final class WebhookSigner {

    public static final String GATEWAY_SIGNATURE = "X-Gateway-Signature";
    public static final String WEBHOOK_ID = "webhook-id";
    public static final String WEBHOOK_TIMESTAMP = "webhook-timestamp";
    public static final String WEBHOOK_SIGNATURE = "webhook-signature";

    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;

    public WebhookSigner(byte[] secret) {
        this.key = new SecretKeySpec(secret, ALGORITHM);
    }

    /** {@code t=<t>,v1=<hex>} over {@code "<t>.<body>"}. */
    public String gatewaySignature(long unixSeconds, byte[] body) {
        byte[] mac = hmac((unixSeconds + ".").getBytes(StandardCharsets.US_ASCII), body);
        return "t=" + unixSeconds + ",v1=" + HexFormat.of().formatHex(mac);
    }

    /** {@code v1,<base64>} over {@code "<id>.<t>.<body>"}. */
    public String standardSignature(String id, long unixSeconds, byte[] body) {
        byte[] mac = hmac((id + "." + unixSeconds + ".").getBytes(StandardCharsets.UTF_8), body);
        return "v1," + Base64.getEncoder().encodeToString(mac);
    }

    private byte[] hmac(byte[] prefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update(prefix);
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            // HmacSHA256 is mandatory in every JRE; this cannot happen on a working runtime.
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }
}
