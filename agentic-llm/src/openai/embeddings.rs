//! OpenAI-compatible embeddings (`POST {base}/embeddings`), the `Embedder` of dense retrieval: OpenAI, vLLM, or
//! llama.cpp's server started with `--embedding`.

use agentic_core::knowledge::Embedder;
use agentic_core::llm::LlmError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Client;
use crate::http;

/// A client's embedding model.
#[derive(Clone, Debug)]
pub struct Embeddings {
    client: Client,
    model: String,
}

impl Client {
    /// The embedding model `model` of this endpoint.
    pub fn embeddings(&self, model: impl Into<String>) -> Embeddings {
        Embeddings { client: self.clone(), model: model.into() }
    }
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [String],
    encoding_format: &'static str,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

/// The vectors of an answer, in input order; an answer that does not hold one per input is an error.
pub(crate) fn decode(body: &[u8], inputs: usize) -> Result<Vec<Vec<f32>>, LlmError> {
    let answer: Response =
        serde_json::from_slice(body).map_err(|e| LlmError::bad_response(format!("embeddings: {e}")))?;
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; inputs];
    for item in answer.data {
        match vectors.get_mut(item.index) {
            Some(slot @ None) => *slot = Some(item.embedding),
            _ => {
                return Err(LlmError::bad_response(format!("embeddings: unexpected or repeated index {}", item.index)));
            }
        }
    }
    vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| LlmError::bad_response(format!("embeddings: no vector for input {i}"))))
        .collect()
}

#[async_trait]
impl Embedder for Embeddings {
    fn model(&self) -> &str {
        &self.model
    }

    async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let body = serde_json::to_vec(&Request { model: &self.model, input: inputs, encoding_format: "float" })
            .map_err(|e| LlmError::bad_response(format!("embeddings request: {e}")))?;
        let response = http::send(self.client.request("/embeddings", body)).await?;
        let bytes = response.bytes().await.map_err(http::transport)?;
        decode(&bytes, inputs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_come_back_in_input_order_and_gaps_are_errors() {
        let body = br#"{"object":"list","data":[{"index":1,"embedding":[0.0,1.0]},{"index":0,"embedding":[1.0,0.0]}],"model":"m"}"#;
        assert_eq!(decode(body, 2).unwrap(), [vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert!(decode(br#"{"data":[{"index":0,"embedding":[1.0]}]}"#, 2).is_err());
        assert!(decode(br#"{"data":[{"index":0,"embedding":[1.0]},{"index":0,"embedding":[1.0]}]}"#, 2).is_err());
        assert!(decode(br#"{"data":[{"index":5,"embedding":[1.0]}]}"#, 1).is_err());
        assert!(decode(b"not json", 1).is_err());
    }
}
