import Modules
import Tensors

/// A pre-norm transformer block: causal self-attention and an MLP, each with a residual.
package final class TransformerBlock: Module<Tensor, Tensor> {
    package let ln1: LayerNorm
    package let attn: MultiheadSelfAttention
    package let ln2: LayerNorm
    package let mlp: Sequential

    package init(dimension: Int, heads: Int) {
        ln1 = LayerNorm(dimension)
        attn = MultiheadSelfAttention(dimension: dimension, heads: heads)
        ln2 = LayerNorm(dimension)
        mlp = Sequential(Linear(dimension, 4 * dimension), GELU(), Linear(4 * dimension, dimension))
        super.init()
    }

    package override func forward(_ x: Tensor) throws -> Tensor {
        let mask = AttentionInput.causalMask(x.shape[1])
        let h = try x + attn(AttentionInput(ln1(x), mask: mask))
        return try h + mlp(ln2(h))
    }
}

/// A tiny character-level GPT with tied input and output embeddings.
package final class GPT: Module<Tensor, Tensor> {
    package let tokenEmbedding: Embedding
    package let positionEmbedding: Embedding
    package let blocks: ModuleList<TransformerBlock>
    package let lnFinal: LayerNorm
    package let head: Linear
    package var bypassLastLayer = false

    package init(vocabulary: Int, context: Int, dimension: Int = 64, heads: Int = 4, layers: Int = 2) {
        tokenEmbedding = Embedding(vocabulary, dimension)
        positionEmbedding = Embedding(context, dimension)
        blocks = ModuleList((0..<layers).map { _ in TransformerBlock(dimension: dimension, heads: heads) })
        lnFinal = LayerNorm(dimension)
        head = Linear(dimension, vocabulary, bias: false)
        super.init()
        // Small embeddings keep the tied logits in a sane range at the start.
        tokenEmbedding.weight = (tokenEmbedding.weight * 0.1).detach().asParameter()
        positionEmbedding.weight = (positionEmbedding.weight * 0.1).detach().asParameter()
        head.weight = tokenEmbedding.weight
    }

    /// `ids [B, T]` to logits `[B, T, vocabulary]`.
    package override func forward(_ ids: Tensor) throws -> Tensor {
        let t = ids.shape[1]
        let positions = Tensor(indices: (0..<Int32(t)).map { $0 }, shape: [t])
        var x = try tokenEmbedding(ids) + positionEmbedding(positions)
        for block in blocks { x = try block(x) }
        let h = try lnFinal(x)
        return bypassLastLayer ? try head.forward(h) : try head(h)
    }
}
