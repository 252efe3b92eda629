import Foundation
import Testing
import TestSupport

/// The worked examples of sharded ingest on engines that cannot run here, judged by the engines' own API
/// definitions: Kubernetes' OpenAPI schemas (kubernetes-validate, strict) and AWS Batch's API model (botocore).
/// examples/slurm runs for real in SlurmTests.
@Suite("Array-job examples")
struct ExamplesTests {
    static let judges = ProcessInfo.processInfo.environment["MUSIKK_EXAMPLE_JUDGES"]
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/musikk/python-examples").path

    static func python(_ arguments: [String]) throws -> CommandResult {
        try Command.run("/usr/bin/env", ["PYTHONPATH=\(judges)", "/usr/bin/python3"] + arguments)
    }

    static func validateKubernetes(_ files: [URL]) throws -> CommandResult {
        try python(["-m", "kubernetes_validate", "--strict", "--kubernetes-version", "1.30.0"] + files.map(\.path))
    }

    static let batchValidator = """
        import json, sys
        import botocore.session
        from botocore.validate import ParamValidator
        model = botocore.session.get_session().get_service_model("batch")
        failed = False
        for operation, path in zip(sys.argv[1::2], sys.argv[2::2]):
            report = ParamValidator().validate(json.load(open(path)), model.operation_model(operation).input_shape)
            if report.has_errors():
                failed = True
                print(path + ": " + report.generate_report())
        sys.exit(1 if failed else 0)
        """

    static func validateBatch(_ pairs: [(operation: String, file: URL)]) throws -> CommandResult {
        try python(["-c", batchValidator] + pairs.flatMap { [$0.operation, $0.file.path] })
    }

    @Test("the Kubernetes Indexed Job, the publish Job and the volume claim are valid Kubernetes 1.30 objects (strict); a misspelt field is caught")
    func kubernetes() throws {
        let folder = Repository.root.appendingPathComponent("examples/kubernetes")
        let files = ["pvc.yaml", "ingest-job.yaml", "publish-job.yaml"].map { folder.appendingPathComponent($0) }
        let result = try Self.validateKubernetes(files)
        #expect(result.status == 0, "\(result.text)\(result.standardError)")
        #expect(result.text.components(separatedBy: "passed").count - 1 == 3, "\(result.text)")
        let job = try String(contentsOf: files[1], encoding: .utf8)
        #expect(job.contains("completionMode: Indexed") && job.contains("--shard auto/3") && job.contains("JOB_COMPLETION_INDEX"))
        // The judge can fail: the same Job with a field misspelt.
        let broken = try Repository.temporaryDirectory("k8s").appendingPathComponent("job.yaml")
        try job.replacingOccurrences(of: "completionMode:", with: "completionMod:").write(to: broken, atomically: true, encoding: .utf8)
        #expect(try Self.validateKubernetes([broken]).status != 0)
    }

    @Test("the AWS Batch job definitions and submissions are valid RegisterJobDefinition and SubmitJob requests; a wrong type is caught")
    func awsBatch() throws {
        let folder = Repository.root.appendingPathComponent("examples/aws-batch")
        let pairs = [("RegisterJobDefinition", "job-definition.json"), ("RegisterJobDefinition", "publish-job-definition.json"),
                     ("SubmitJob", "submit-ingest.json"), ("SubmitJob", "submit-publish.json")]
            .map { (operation: $0.0, file: folder.appendingPathComponent($0.1)) }
        let result = try Self.validateBatch(pairs)
        #expect(result.status == 0, "\(result.text)\(result.standardError)")
        let definition = try String(contentsOf: pairs[0].file, encoding: .utf8)
        #expect(definition.contains("AWS_BATCH_JOB_ARRAY_INDEX") && definition.contains("--shard auto/"))
        let submission = try String(contentsOf: pairs[2].file, encoding: .utf8)
        let broken = try Repository.temporaryDirectory("batch").appendingPathComponent("submit.json")
        try submission.replacingOccurrences(of: #""size": 300"#, with: #""size": "300""#).write(to: broken, atomically: true, encoding: .utf8)
        #expect(try Self.validateBatch([("SubmitJob", broken)]).status != 0)
    }
}
