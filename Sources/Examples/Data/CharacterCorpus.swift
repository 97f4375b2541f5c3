import Tensors

/// Text generated from a small grammar, as characters: training data for a tiny GPT.
package struct CharacterCorpus {
    package let text: [Character]
    package let vocabulary: [Character]
    package let ids: [Int32]

    package init(sentences: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        let subjects = ["the cat", "a dog", "my friend", "the robot", "our teacher", "a small bird", "the old man"]
        let verbs = ["sees", "likes", "finds", "follows", "draws", "paints", "reads"]
        let objects = ["the moon", "a red ball", "the river", "two apples", "a long book", "the green door", "some bread"]
        let endings = [" today.", " again.", " at night.", " in the park.", ".", " slowly.", " with joy."]
        var text = ""
        for _ in 0..<sentences {
            func pick(_ words: [String]) -> String { words[generator.int(below: words.count)] }
            text += pick(subjects) + " " + pick(verbs) + " " + pick(objects) + pick(endings) + "\n"
        }
        self.text = Array(text)
        vocabulary = Array(Set(text)).sorted()
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, Int32($0)) })
        ids = self.text.map { index[$0]! }
    }

    /// `count` windows of `length` ids starting at `starts`, and the same shifted by one.
    package func batch(starts: [Int], length: Int) -> (x: Tensor, y: Tensor) {
        var x = [Int32]()
        var y = [Int32]()
        for s in starts {
            x.append(contentsOf: ids[s..<s + length])
            y.append(contentsOf: ids[s + 1..<s + length + 1])
        }
        return (Tensor(indices: x, shape: [starts.count, length]), Tensor(indices: y, shape: [starts.count, length]))
    }
}
