package org.canonic.gateway.compute;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-written certificate is one the JDK (and so OpenSSL/Python on the machine) reads and verifies. */
class InstanceTlsTest {

    @Test
    void theCertificateParsesVerifiesItselfAndMatchesItsKey() throws Exception {
        Instant now = Instant.parse("2026-12-07T05:00:00Z");
        InstanceTls.Identity identity = InstanceTls.create("mg-chat-gw-0123abcd", now);
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(identity.certificatePem()
                        .getBytes(StandardCharsets.US_ASCII)));
        certificate.verify(certificate.getPublicKey()); // self-signed, signature over the TBS bytes
        certificate.checkValidity(Date.from(now));
        certificate.checkValidity(Date.from(now.plus(InstanceTls.VALIDITY).minusSeconds(60)));
        assertEquals(3, certificate.getVersion());
        assertEquals("CN=mg-chat-gw-0123abcd", certificate.getSubjectX500Principal().getName());
        assertEquals(certificate.getSubjectX500Principal(), certificate.getIssuerX500Principal());
        assertEquals("SHA256withECDSA", certificate.getSigAlgName());

        String body = identity.privateKeyPem().replaceAll("-----[A-Z ]+-----|\\s", "");
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                Base64.getDecoder().decode(body)));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(new byte[]{1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(certificate);
        verifier.update(new byte[]{1, 2, 3});
        assertTrue(verifier.verify(signature), "the private key is the certificate's");
        assertTrue(identity.privateKeyPem().startsWith("-----BEGIN PRIVATE KEY-----\n"));

        assertNotEquals(identity.certificatePem(), InstanceTls.create("mg-chat-gw-0123abcd", now).certificatePem(),
                "a new key every time");
    }
}
