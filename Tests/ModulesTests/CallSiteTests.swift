import Tensors
import Testing
@testable import Modules

/// Where this helper was called from: the helper's own frame is passed over.
@inline(never)
func callSiteOfCaller() -> CallSite? { CallSites.caller(skip: 1) }

/// A module whose forward asks where it was called from, as the bypass detector will.
final class Locating: Module<Tensor, Tensor> {
    var site: CallSite?
    override func forward(_ x: Tensor) throws -> Tensor {
        site = CallSites.caller(skip: 1)  // forward's own frame is passed over
        return x
    }
}

@Suite("Call sites from backtraces")
struct CallSiteTests {
    let file = #filePath

    @Test func theFirstFrameOutsideTheRuntimeIsTheCaller() throws {
        let found = CallSites.caller()
        let site = try #require(found)
        #expect(site.file == file)
        #expect(site.line == 23)
        #expect(site.function.contains("theFirstFrameOutsideTheRuntimeIsTheCaller"))
        #expect(site.description == "\(file):23")
    }

    @Test func skipPassesOverTheHelpersOwnFrame() throws {
        let found = callSiteOfCaller()
        let site = try #require(found)
        #expect(site.file == file)
        #expect(site.line == 32)
    }

    /// The wrapper's frames (Modules) are the runtime's: whether forward was called directly
    /// or through the wrapper, the caller is the line in user code.
    @Test func wrapperFramesAreSkipped() throws {
        let m = Locating()
        _ = try m.forward(Tensor([1], shape: [1]))
        #expect(m.site?.file == file)
        #expect(m.site?.line == 42)
        _ = try m(Tensor([1], shape: [1]))
        #expect(m.site?.line == 45)
    }

    /// Answers are kept per call path: the same line gives the same site, another line its own.
    @Test func eachCallPathHasItsOwnAnswer() {
        var sites: [CallSite?] = []
        for _ in 0..<3 { sites.append(CallSites.caller()) }
        let other = CallSites.caller()
        #expect(sites.map { $0?.line } == [52, 52, 52])
        #expect(other?.line == 53)
        #expect(other?.file == file)
    }

    @Test func mangledModuleNames() {
        #expect(CallSites.swiftModule(ofMangled: "$s7Modules6ModuleC14callAsFunctionyq_xKF") == "Modules")
        #expect(CallSites.swiftModule(ofMangled: "$s12ModulesTests8LocatingC7forwardy7Tensors6TensorVAGKF") == "ModulesTests")
        #expect(CallSites.swiftModule(ofMangled: "$sSa6appendyyxnF") == "Swift")
        #expect(CallSites.swiftModule(ofMangled: "$ss5print_9separator10terminatoryypd_S2StF") == "Swift")
        #expect(CallSites.swiftModule(ofMangled: "main") == nil)
        #expect(CallSites.swiftModule(ofMangled: "$s99Short") == nil)
    }
}
