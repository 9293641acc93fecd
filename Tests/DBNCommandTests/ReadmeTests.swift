import Foundation
import Testing

/// The README's library example is the compiled `Examples/mnist-example/main.swift`, word for
/// word, so the example cannot drift from code that builds.
@Test func readmeQuotesTheCompiledLibraryExample() throws {
    let root = DBNExecutable.packageRoot
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let example = try String(contentsOf: root.appendingPathComponent("Examples/mnist-example/main.swift"), encoding: .utf8)
    #expect(readme.contains("```swift\n" + example.trimmingCharacters(in: .newlines) + "\n```"))
}
