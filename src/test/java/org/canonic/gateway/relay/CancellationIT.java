package org.canonic.gateway.relay;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The same behaviour, against the packaged jar in the production profile (and a native binary where one is built). */
@QuarkusIntegrationTest
class CancellationIT extends CancellationTest {
}
