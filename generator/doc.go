// Package generator asks an OpenAI-compatible chat-completion endpoint (vLLM,
// SGLang, llama.cpp server, hosted APIs) for the evidence a scaffold did not
// send with its job:
//
//   - TestWriter: K tests that reproduce the issue, validated on the base run
//     (kept only if they compile and fail there), with compile errors fed back
//     for a bounded number of repairs (Kimi-Dev's self-play tests);
//   - Judge: a verifier's P(YES) for one candidate from the YES/NO token
//     log-probabilities (DeepSWE, R2E-Gym);
//   - Adversary: a test that tells two tied candidates apart (InfCode,
//     CodeMonkeys).
//
// The wire is an Endpoint shared by every job of a process (HTTP, retries,
// concurrency limit, response cache); each job talks through its own Session,
// which holds the job's budget. Without a configured URL, NewEndpoint returns
// ErrNoEndpoint.
package generator
