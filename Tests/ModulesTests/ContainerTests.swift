import Modules
import Tensors
import Testing

@Suite("Containers")
struct ContainerTests {
    final class Heads: Module<Tensor, Tensor> {
        let heads = ModuleDict<Linear>(["classify": Linear(4, 3), "regress": Linear(4, 1)])
        override func forward(_ x: Tensor) throws -> Tensor { try heads["classify"]!(x) }
    }

    @Test func moduleDictNamesChildrenByKeyInInsertionOrder() throws {
        let model = Heads()
        #expect(
            model.stateDict().map(\.name) == ["heads.classify.weight", "heads.classify.bias", "heads.regress.weight", "heads.regress.bias"])
        #expect(model.heads.keys == ["classify", "regress"])
        model.heads["extra"] = Linear(4, 2, bias: false)
        let replacement = Linear(4, 3)
        model.heads["classify"] = replacement  // replaced in place, position kept
        #expect(model.heads.keys == ["classify", "regress", "extra"])
        #expect(model.heads["classify"] === replacement)
        model.heads["regress"] = nil
        #expect(model.namedModules().map(\.path) == ["", "heads", "heads.classify", "heads.extra"])
        #expect(model.heads.count == 2 && model.heads.values.count == 2)
        #expect(try model(random([2, 4])).shape == [2, 3])
        #expect(model.parameters().count == 3)
    }

    @Test func sequentialSubscriptsAppendAndInsert() throws {
        let a = Linear(3, 4)
        let relu = ReLU()
        let b = Linear(4, 2)
        let model = Sequential(a, relu, b)
        #expect(model[0] === a && model[-1] === b && model.count == 3)
        let head = model[0..<2]
        #expect(head.count == 2 && head[1] === relu)
        #expect(try head(random([1, 3])).shape == [1, 4])
        model.append(Tanh())
        model.insert(Identity(), at: 1)
        #expect(model.namedModules().map { $0.module.typeName } == ["Sequential", "Linear", "Identity", "ReLU", "Linear", "Tanh"])
        model[1] = Sigmoid()
        #expect(model.treeDescription.contains("(1): Sigmoid()"))
        #expect(model.stateDict().map(\.name) == ["0.weight", "0.bias", "3.weight", "3.bias"])
    }

    @Test func moduleListAppendAndInsertRenumber() throws {
        let list = ModuleList([Linear(2, 2), Linear(2, 3)])
        list.append(Linear(3, 1))
        list.insert(Linear(2, 2, bias: false), at: 0)
        #expect(list.count == 4)
        #expect(list.stateDict().map(\.name) == ["0.weight", "1.weight", "1.bias", "2.weight", "2.bias", "3.weight", "3.bias"])
        list.insert(Linear(1, 1, bias: false), at: -1)  // before the last, as Python's insert
        #expect(list[3].outFeatures == 1 && list[4].outFeatures == 1 && list[3].bias == nil)
    }
}
