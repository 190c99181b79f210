package org.canonic.gateway.compute;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

/**
 * A TLS identity made by the gateway for one rented machine: an EC P-256 key and a self-signed X.509 certificate
 * naming the instance. The machine serves vLLM with them ({@code --ssl-certfile}, {@code --ssl-keyfile}); the
 * gateway's client for that backend trusts exactly this certificate and nothing else (pinning), so no public CA is
 * involved and a host in between, or another machine on the same address, cannot pose as the instance. The private
 * key goes to the provider in the launch request (over the provider's HTTPS API) and is not kept by the gateway.
 *
 * <p>The JDK has no public certificate builder, so the certificate is written here in DER, field by field
 * (RFC 5280: version 3, serial, ecdsa-with-SHA256, issuer = subject = CN=<instance>, validity, the public key).
 */
public final class InstanceTls {

    /** ecdsa-with-SHA256 (RFC 5758). */
    private static final String ECDSA_SHA256 = "1.2.840.10045.4.3.2";
    private static final String COMMON_NAME = "2.5.4.3";
    static final Duration VALIDITY = Duration.ofDays(400);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    /** The certificate (PEM, shared with the backend's client) and the private key (PEM PKCS#8, for the machine). */
    public record Identity(String certificatePem, String privateKeyPem) {
    }

    private InstanceTls() {
    }

    /** A fresh identity for {@code instance}, valid from a day ago (clock skew) for 400 days. */
    public static Identity create(String instance, Instant now) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            KeyPair pair = generator.generateKeyPair();
            byte[] algorithm = sequence(oid(ECDSA_SHA256));
            byte[] name = sequence(set(sequence(oid(COMMON_NAME), utf8(instance))));
            byte[] tbs = sequence(explicit(0, integer(BigInteger.TWO)), integer(new BigInteger(63, RANDOM).add(
                    BigInteger.ONE)), algorithm, name, sequence(utcTime(now.minus(Duration.ofDays(1))),
                    utcTime(now.plus(VALIDITY))), name, pair.getPublic().getEncoded());
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(pair.getPrivate());
            signer.update(tbs);
            byte[] certificate = sequence(tbs, algorithm, bitString(signer.sign()));
            return new Identity(pem("CERTIFICATE", certificate), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot make an EC P-256 key and signature", e);
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    // ---- DER -----------------------------------------------------------------------------------------------------

    private static byte[] tagged(int tag, byte[]... parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            body.writeBytes(part);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = body.size();
        if (length < 0x80) {
            out.write(length);
        } else {
            byte[] digits = BigInteger.valueOf(length).toByteArray();
            int skip = digits[0] == 0 ? 1 : 0;
            out.write(0x80 | (digits.length - skip));
            out.write(digits, skip, digits.length - skip);
        }
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static byte[] sequence(byte[]... parts) {
        return tagged(0x30, parts);
    }

    private static byte[] set(byte[]... parts) {
        return tagged(0x31, parts);
    }

    private static byte[] explicit(int number, byte[] inner) {
        return tagged(0xa0 | number, inner);
    }

    private static byte[] integer(BigInteger value) {
        return tagged(0x02, value.toByteArray());
    }

    private static byte[] utf8(String text) {
        return tagged(0x0c, text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] utcTime(Instant instant) {
        return tagged(0x17, UTC_TIME.format(instant).getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] bitString(byte[] bits) {
        byte[] content = new byte[bits.length + 1];
        System.arraycopy(bits, 0, content, 1, bits.length);
        return tagged(0x03, content);
    }

    private static byte[] oid(String dotted) {
        String[] arcs = dotted.split("\\.");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(Integer.parseInt(arcs[0]) * 40 + Integer.parseInt(arcs[1]));
        for (int i = 2; i < arcs.length; i++) {
            long arc = Long.parseLong(arcs[i]);
            int groups = 1;
            for (long rest = arc >> 7; rest > 0; rest >>= 7) {
                groups++;
            }
            for (int g = groups - 1; g >= 0; g--) {
                int seven = (int) ((arc >> (7 * g)) & 0x7f);
                out.write(g > 0 ? seven | 0x80 : seven);
            }
        }
        return tagged(0x06, out.toByteArray());
    }
}
