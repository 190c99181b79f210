package org.canonic.gateway.api;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official OpenAI Java SDK, pointed at the gateway as its base URL, streams and reads usage. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class OpenAiSdkTest extends GatewayTest {

    private OpenAIClient sdk() {
        return OpenAIOkHttpClient.builder().baseUrl(gatewayUri().resolve("/v1").toString()).apiKey("sdk-test-key")
                .maxRetries(0).build();
    }

    @Test
    void theOpenAiJavaSdkStreamsAChatAndGetsContentAndUsage() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("main-model")
                .addUserMessage("hello")
                .maxCompletionTokens(64)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();

        List<String> content = new ArrayList<>();
        List<CompletionUsage> usage = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = sdk().chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> {
                chunk.choices().forEach(choice -> choice.delta().content().ifPresent(content::add));
                chunk.usage().ifPresent(usage::add);
            });
        }

        assertEquals("tok0tok1tok2", String.join("", content));
        assertEquals(1, usage.size());
        assertEquals(3, usage.get(0).completionTokens());
        assertEquals(64, json(FakeBackends.alpha().lastCompletion().body).get("max_completion_tokens").asInt());
    }

    @Test
    void theOpenAiJavaSdkGetsANonStreamCompletion() {
        FakeBackends.alpha().then(org.canonic.gateway.testing.Behavior.completion("Hi"));
        ChatCompletion completion = sdk().chat().completions().create(ChatCompletionCreateParams.builder()
                .model("main-model").addUserMessage("hello").build());

        assertEquals("Hi", completion.choices().get(0).message().content().orElse(""));
        assertEquals(13, completion.usage().orElseThrow().totalTokens());
    }

    @Test
    void theOpenAiJavaSdkSeesAnUnknownModelAsNotFound() {
        NotFoundException error = assertThrows(NotFoundException.class, () -> sdk().chat().completions()
                .create(ChatCompletionCreateParams.builder().model("gpt-nope").addUserMessage("x").build()));
        assertTrue(error.getMessage().contains("main-model"), "the error lists the available models: " + error);
    }
}
