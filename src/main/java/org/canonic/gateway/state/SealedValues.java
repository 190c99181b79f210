package org.canonic.gateway.state;

import org.canonic.gateway.config.InvalidConfigurationException;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Secrets the replicas keep in the shared store, sealed with a key only the gateways hold
 * ({@code GATEWAY_STATE_KEY_FILE}, a mounted secret of at least 32 bytes, the same on every replica): whoever reads
 * Redis (a backup, a shared Valkey, a stolen dump) reads no vLLM key. AES-256-GCM with a fresh 96-bit nonce per
 * value and the value's name as associated data, so a sealed value moved to another name does not open. Format:
 * {@code v1:<base64(nonce | ciphertext | tag)>}. The AES key is the SHA-256 of the file's bytes (trimmed), so any
 * long random secret works as it is.
 */
public final class SealedValues {

    public static final String PREFIX = "v1:";
    static final int MIN_SECRET_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    SealedValues(byte[] secret) {
        try {
            this.key = new SecretKeySpec(MessageDigest.getInstance("SHA-256").digest(secret), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads the sealing key from a mounted secret file.
     *
     * @throws InvalidConfigurationException when it cannot be read or holds fewer than 32 bytes
     */
    public static SealedValues fromFile(String file) {
        byte[] secret;
        try {
            secret = new String(Files.readAllBytes(Path.of(file)), StandardCharsets.UTF_8).strip()
                    .getBytes(StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new InvalidConfigurationException(List.of("GATEWAY_STATE_KEY_FILE " + file + " cannot be read: "
                    + e.getClass().getSimpleName()));
        }
        if (secret.length < MIN_SECRET_BYTES) {
            throw new InvalidConfigurationException(List.of("GATEWAY_STATE_KEY_FILE " + file + " holds "
                    + secret.length + " bytes; it needs at least " + MIN_SECRET_BYTES
                    + " random bytes (e.g. openssl rand -base64 48)"));
        }
        return new SealedValues(secret);
    }

    /** {@code plaintext} sealed for the value named {@code name}. */
    public String seal(String plaintext, String name) {
        try {
            byte[] nonce = new byte[NONCE_BYTES];
            RANDOM.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(name.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + sealed.length);
            System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
            return PREFIX + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing failed", e);
        }
    }

    /**
     * The plaintext of a value sealed for {@code name}.
     *
     * @throws IllegalArgumentException when it is not sealed, was sealed with another key or for another name, or
     *                                  was changed
     */
    public String open(String sealed, String name) {
        if (sealed == null || !sealed.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a sealed value");
        }
        try {
            byte[] in = Base64.getDecoder().decode(sealed.substring(PREFIX.length()));
            if (in.length <= NONCE_BYTES) {
                throw new IllegalArgumentException("a sealed value too short to hold anything");
            }
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, NONCE_BYTES));
            cipher.updateAAD(name.getBytes(StandardCharsets.UTF_8));
            return new String(cipher.doFinal(in, NONCE_BYTES, in.length - NONCE_BYTES), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("the sealed value does not open with this key (another"
                    + " GATEWAY_STATE_KEY_FILE, another name, or changed)", e);
        }
    }
}
