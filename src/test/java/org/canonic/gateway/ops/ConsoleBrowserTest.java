package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.testing.Browser;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.vastai;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator console in a real (headless) Chromium against the running gateway: what an operator sees and clicks,
 * with the admin API as the witness of what happened. Screenshots go to target/console-screenshots/.
 */
@QuarkusTest
class ConsoleBrowserTest extends GatewayTest {

    /** Rendered as HTML, this would be an image element (and, without the CSP, run script). */
    static final String PAYLOAD = "<img src=x onerror=\"window.__xss=1\">";
    static final Duration LIVE = Duration.ofSeconds(2);

    private Browser browser;

    @BeforeEach
    void open() {
        browser = Browser.start();
    }

    @AfterEach
    void close() {
        browser.close();
        admin("DELETE", "/admin/lock?force=true", null);
    }

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN,
                "x-gateway-actor", "console-test");
    }

    private String console() {
        return URI.create(gatewayUrl.toString()).resolve("/console").toString();
    }

    /** Opens /console, signs in with the admin token, and waits for the backends to be listed. */
    private void signIn() {
        browser.driver().get(console());
        WebElement token;
        try {
            token = browser.waiting(Duration.ofSeconds(10)).until(ExpectedConditions.visibilityOfElementLocated(
                    By.id("token")));
        } catch (RuntimeException e) {
            throw new AssertionError("no sign-in form at " + browser.driver().getCurrentUrl() + ": "
                    + browser.driver().getPageSource(), e);
        }
        token.sendKeys(FakeBackends.ADMIN_TOKEN);
        WebElement actor = browser.driver().findElement(By.id("actor"));
        actor.clear();
        actor.sendKeys("ops-alice");
        browser.driver().findElement(By.cssSelector("#login-form button[type=submit]")).click();
        browser.waiting(Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("tr[data-backend='alpha']")));
    }

    /** Clicks what {@code by} finds once it is there, again if a refresh replaced it meanwhile. */
    private void click(By by) {
        browser.waiting(LIVE).ignoring(StaleElementReferenceException.class).ignoring(NoSuchElementException.class)
                .until(d -> {
                    d.findElement(by).click();
                    return true;
                });
    }

    private WebElement byId(String id) {
        return browser.driver().findElement(By.id(id));
    }

    @Test
    void loadsWithTheTokenAndListsTheConfiguredBackends() {
        browser.driver().get(console());
        assertTrue(browser.driver().getCurrentUrl().endsWith("/console/"), browser.driver().getCurrentUrl());
        assertTrue(byId("views").getAttribute("hidden") != null, "nothing is shown before the token");
        signIn();
        for (String name : List.of("alpha", "beta", "omega")) {
            WebElement row = browser.driver().findElement(By.cssSelector("tr[data-backend='" + name + "']"));
            assertTrue(row.getText().contains(name), row.getText());
        }
        String routes = byId("routes").getText();
        assertTrue(routes.contains("Route main") && routes.contains("Route solo"), routes);
        assertTrue(byId("whoami").getText().contains("ops-alice"), byId("whoami").getText());
        // The token is in the tab's session storage, not in the URL, a cookie or the page.
        assertEquals(FakeBackends.ADMIN_TOKEN, browser.script("return sessionStorage.getItem('mg.token')"));
        assertFalse(browser.driver().getCurrentUrl().contains(FakeBackends.ADMIN_TOKEN));
        assertTrue(browser.driver().manage().getCookies().isEmpty(), "no cookies");
        assertFalse(browser.driver().getPageSource().contains(FakeBackends.ADMIN_TOKEN));
        browser.screenshot("fleet");
    }

    @Test
    void aLockTakenThroughTheApiShowsItsBannerAndForceReleaseFromThePageEndsIt() throws Exception {
        signIn();
        assertFalse(byId("lock-banner").isDisplayed());
        HttpResponse<String> taken = admin("POST", "/admin/lock", "{\"holder\":\"" + PAYLOAD.replace("\"", "\\\"")
                + "\",\"reason\":\"swap the GPUs\",\"ttl_seconds\":600}");
        assertEquals(201, taken.statusCode(), taken.body());
        long started = System.nanoTime();
        browser.waiting(LIVE).until(ExpectedConditions.visibilityOfElementLocated(By.id("lock-banner")));
        long shownMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(shownMs <= 2000, "banner after " + shownMs + " ms");
        // The holder is shown as the text it is: no image element, no script run.
        assertEquals(PAYLOAD, byId("lock-holder").getText());
        assertEquals(0L, browser.script("return document.querySelectorAll('img').length"));
        assertEquals(null, browser.script("return window.__xss === undefined ? null : window.__xss"));
        assertEquals(json(taken.body()).path("fencing").asText(), byId("lock-fencing").getText());
        assertTrue(byId("lock-countdown").getText().matches("9m \\d+s|10m 0s"), byId("lock-countdown").getText());
        browser.screenshot("lock-banner");

        // Force release takes a second, explicit click.
        byId("lock-force").click();
        assertTrue(json(admin("GET", "/admin/lock", null).body()).path("held").asBoolean(), "one click ends nothing");
        byId("lock-force-confirm").click();
        browser.waiting(LIVE).until(ExpectedConditions.invisibilityOfElementLocated(By.id("lock-banner")));
        assertFalse(json(admin("GET", "/admin/lock", null).body()).path("held").asBoolean());
        JsonNode audit = json(admin("GET", "/admin/audit?limit=5", null).body()).path("data");
        assertEquals("lock.force_release", audit.get(0).path("action").asText(), audit.toString());
        assertEquals("ops-alice", audit.get(0).path("caller").asText());
        // The page's activity view shows it too.
        browser.waiting(LIVE).until(ExpectedConditions.textToBePresentInElementLocated(By.id("audit"),
                "lock.force_release"));
    }

    @Test
    void aLockTakenFromThePageGuardsChangesAndIsReleasedWithItsToken() {
        signIn();
        byId("lock-form-holder").sendKeys("alice");
        byId("lock-form-reason").sendKeys("drain beta");
        byId("lock-form").findElement(By.cssSelector("button[type=submit]")).click();
        browser.waiting(LIVE).until(ExpectedConditions.visibilityOfElementLocated(By.id("lock-mine")));
        assertTrue(byId("lock-release").isDisplayed());
        // Someone else (no token) is refused; the page's drain carries the token and passes.
        assertEquals(423, admin("POST", "/admin/backends/beta/drain", null).statusCode());
        click(By.cssSelector("button[data-action='drain'][data-backend='beta']"));
        browser.waiting(LIVE).until(d -> admin("GET", "/admin/backends/beta", null).body().contains("\"drain\":\"DRAIN"));
        click(By.cssSelector("button[data-action='undrain'][data-backend='beta']"));
        browser.waiting(LIVE).until(d -> admin("GET", "/admin/backends/beta", null).body().contains("\"drain\":\"NONE\""));
        byId("lock-release").click();
        browser.waiting(LIVE).until(ExpectedConditions.invisibilityOfElementLocated(By.id("lock-banner")));
        assertFalse(json(admin("GET", "/admin/lock", null).body()).path("held").asBoolean());
    }

    @Test
    void aProvisionOverTheConfirmationTierNeedsTheSecondClick() throws Exception {
        vastai().reset();
        // A port nothing listens on: the machine never serves (a base URL's port is 1-65535; 0 is refused).
        vastai().instancePort = 1;
        vastai().offers.add(FakeVastAi.offer(501, "A100 80GB", 81920, 12.0, 0.99));
        signIn();
        byId("prov-provider").sendKeys("vastai");
        byId("prov-recipe").sendKeys("main");
        WebElement hours = byId("prov-hours");
        hours.clear();
        hours.sendKeys("2");
        byId("prov-offer").sendKeys("501");
        byId("provision-form").findElement(By.cssSelector("button[type=submit]")).click();
        browser.waiting(Duration.ofSeconds(5)).until(ExpectedConditions.visibilityOfElementLocated(By.id("estimate")));
        assertEquals("$24.00", byId("estimate-usd").getText());
        assertEquals("needs_confirmation", byId("estimate-tier").getText());
        assertTrue(vastai().instances.isEmpty(), "an estimate launches nothing");

        byId("prov-launch").click();
        WebElement confirm = browser.waiting(LIVE).until(ExpectedConditions.visibilityOfElementLocated(
                By.id("prov-confirm")));
        assertEquals("Confirm launch at $24.00", confirm.getText());
        assertTrue(vastai().instances.isEmpty(), "the first click launches nothing over the tier");
        browser.screenshot("provision-confirm");

        confirm.click();
        browser.waiting(Duration.ofSeconds(5)).until(d -> vastai().instances.size() == 1);
        browser.waiting(LIVE).until(ExpectedConditions.textToBePresentInElementLocated(By.id("message"), "Launched"));
        // The instance this launch made: earlier tests leave destroyed ones in the list.
        String providerId = vastai().instances.keySet().iterator().next();
        String id = null;
        for (JsonNode instance : json(admin("GET", "/admin/compute/instances", null).body()).path("instances")) {
            if (providerId.equals(instance.path("provider_id").asText())) {
                id = instance.path("id").asText();
            }
        }
        browser.waiting(LIVE).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("tr[data-instance='" + id + "']")));
        // Destroyed from the page (it never served: the guard lets it go without a forced drain).
        click(By.cssSelector("button[data-action='destroy'][data-instance='" + id + "']"));
        String destroyedId = id;
        browser.waiting(Duration.ofSeconds(10)).withMessage(() -> "message: " + byId("message").getText()
                + ", instance: " + admin("GET", "/admin/compute/instances/" + destroyedId, null).body())
                .until(d -> vastai().instances.isEmpty());
        browser.waiting(LIVE).until(ExpectedConditions.textToBePresentInElementLocated(By.id("message"),
                "Destroyed " + id));
    }

    @Test
    void aMaintenanceWindowPlannedFromThePageIsOnTheTimelineAndDeletedFromIt() {
        signIn();
        String tomorrow = LocalDate.now(ZoneOffset.UTC).plusDays(1).toString();
        byId("sch-target").sendKeys("beta");
        browser.script("document.getElementById('sch-start').value = arguments[0];"
                + "document.getElementById('sch-end').value = arguments[1];", tomorrow + "T10:00", tomorrow + "T12:30");
        byId("sch-holder").sendKeys(PAYLOAD);
        byId("sch-note").sendKeys("swap beta to the 32B model");
        byId("schedule-form").findElement(By.cssSelector("button[type=submit]")).click();
        WebElement row = browser.waiting(LIVE).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#schedule-list tr[data-entry]")));
        String id = row.getAttribute("data-entry");
        JsonNode entry = json(admin("GET", "/admin/schedule/" + id, null).body());
        assertEquals("maintenance", entry.path("kind").asText());
        assertEquals("backend", entry.path("target_kind").asText());
        assertEquals(tomorrow + "T10:00:00Z", entry.path("starts_at").asText(), entry.toString());
        assertEquals(tomorrow + "T12:30:00Z", entry.path("ends_at").asText());
        assertEquals(PAYLOAD, entry.path("holder").asText());
        assertEquals("ops-alice", entry.path("created_by").asText());
        assertTrue(row.getText().contains(PAYLOAD), "the holder shows as text: " + row.getText());
        assertEquals(0L, browser.script("return document.querySelectorAll('img').length"));
        WebElement bar = browser.driver().findElement(By.cssSelector("#timeline .bar.maintenance"));
        assertTrue(bar.getText().contains("beta"), bar.getText());
        browser.screenshot("schedule");

        click(By.cssSelector("button[data-action='delete'][data-entry='" + id + "']"));
        browser.waiting(LIVE).until(ExpectedConditions.numberOfElementsToBe(
                By.cssSelector("#schedule-list tr[data-entry='" + id + "']"), 0));
        assertEquals(404, admin("GET", "/admin/schedule/" + id, null).statusCode());
    }

    @Test
    void markupInABackendsFieldsRendersAsText() {
        HttpResponse<String> registered = admin("POST", "/admin/backends", "{\"name\":\"xss-probe\","
                + "\"base_url\":\"http://127.0.0.1:1/v1\",\"model\":\"" + PAYLOAD.replace("\"", "\\\"")
                + "\",\"routes\":[\"refused\"]}");
        assertEquals(201, registered.statusCode(), registered.body());
        try {
            signIn();
            WebElement row = browser.waiting(LIVE).until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("tr[data-backend='xss-probe']")));
            assertTrue(row.getText().contains(PAYLOAD), row.getText());
            assertEquals(0L, browser.script("return document.querySelectorAll('img').length"));
            assertEquals(null, browser.script("return window.__xss === undefined ? null : window.__xss"));
        } finally {
            admin("DELETE", "/admin/backends/xss-probe?deadline_seconds=1", null);
        }
    }

    @Test
    void noSecretInThePageOrInWhatItFetched() throws Exception {
        signIn();
        Thread.sleep(1500); // a second round of polling
        List<String> secrets = List.of(FakeBackends.ADMIN_TOKEN, FakeBackends.ALPHA_KEY, FakeBackends.OMEGA_KEY,
                FakeBackends.VASTAI_KEY, FakeBackends.RUNPOD_KEY, FakeBackends.WEBHOOK_SECRET);
        String page = browser.driver().getPageSource();
        @SuppressWarnings("unchecked")
        List<String> fetched = (List<String>) browser.script(
                "return performance.getEntriesByType('resource').map(e => e.name)");
        assertTrue(fetched.stream().anyMatch(u -> u.contains("/admin/backends")), fetched.toString());
        for (String secret : secrets) {
            assertFalse(page.contains(secret), "page source");
        }
        for (String url : fetched) {
            URI uri = URI.create(url);
            for (String secret : secrets) {
                assertFalse(url.contains(secret), "a URL the page fetched holds a secret");
            }
            // What the page was answered, read again with its token.
            String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            String body = path.startsWith("/admin") ? admin("GET", path, null).body() : gateway.get(path).body();
            for (String secret : secrets) {
                assertFalse(body.contains(secret), path + " answers a secret");
            }
        }
    }

    @Test
    void fitsANarrowWindow() {
        signIn();
        browser.driver().manage().window().setSize(new Dimension(400, 800));
        browser.waiting(LIVE).until(d -> ((Number) browser.script("return window.innerWidth")).intValue() <= 400);
        Number overflow = (Number) browser.script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assertTrue(overflow.intValue() <= 0, "the page scrolls sideways by " + overflow + " px");
        browser.screenshot("narrow");
    }

    @Test
    void usagePerKeyShowsAsATableAndAChart() throws Exception {
        assertEquals(200, gateway.post("/v1/chat/completions",
                org.canonic.gateway.testing.GatewayClient.chat("main-model", true)).statusCode());
        long deadline = System.nanoTime() + 5_000_000_000L;
        com.fasterxml.jackson.databind.JsonNode row = null;
        while (row == null && System.nanoTime() < deadline) {
            for (com.fasterxml.jackson.databind.JsonNode r : json(admin("GET", "/admin/usage", null).body())
                    .path("data")) {
                if ("anonymous".equals(r.path("key").asText())) {
                    row = r;
                }
            }
            Thread.sleep(50);
        }
        assertTrue(row != null, "the request is in the usage API");
        signIn();
        WebElement shown = browser.waiting(Duration.ofSeconds(5)).until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#usage-table tr[data-key='anonymous']")));
        // the console reads usage every 10 s: it shows at least what the API said before it was opened
        int requests = Integer.parseInt(shown.findElements(By.tagName("td")).get(1).getText());
        assertTrue(requests >= row.path("requests").asInt(), shown.getText() + " vs " + row);
        assertTrue(byId("usage-summary").getText().contains("requests"), byId("usage-summary").getText());
        assertFalse(browser.driver().findElements(By.cssSelector("#usage-chart .usage-bar")).isEmpty());
        browser.script("document.getElementById('usage').scrollIntoView()");
        browser.screenshot("usage");
    }
}
