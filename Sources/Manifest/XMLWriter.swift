internal import CLibXML2

/// Why an MPD could not be written.
public enum ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    case xmlWriter(String)

    public var description: String {
        switch self {
        case let .xmlWriter(step): "libxml2 could not write the MPD (\(step)); check the libxml2 installation"
        }
    }
}

/// A thin wrapper over libxml2's text writer that checks every return code.
final class XMLWriter {
    private let buffer: xmlBufferPtr
    private let writer: xmlTextWriterPtr

    init() throws(ManifestError) {
        guard let buffer = xmlBufferCreate() else { throw .xmlWriter("xmlBufferCreate") }
        guard let writer = xmlNewTextWriterMemory(buffer, 0) else {
            xmlBufferFree(buffer)
            throw .xmlWriter("xmlNewTextWriterMemory")
        }
        self.buffer = buffer
        self.writer = writer
        try check(xmlTextWriterSetIndent(writer, 1), "xmlTextWriterSetIndent")
        try check(xmlTextWriterSetIndentString(writer, "  "), "xmlTextWriterSetIndentString")
        try check(xmlTextWriterStartDocument(writer, nil, "UTF-8", nil), "xmlTextWriterStartDocument")
    }

    deinit {
        xmlFreeTextWriter(writer)
        xmlBufferFree(buffer)
    }

    /// Writes an element: its attributes in order, then whatever `children` writes.
    func element(
        _ name: String, _ attributes: [(String, String)] = [],
        _ children: () throws(ManifestError) -> Void = {}
    ) throws(ManifestError) {
        try check(xmlTextWriterStartElement(writer, name), "start \(name)")
        for (key, value) in attributes {
            try check(xmlTextWriterWriteAttribute(writer, key, value), "attribute \(key)")
        }
        try children()
        try check(xmlTextWriterEndElement(writer), "end \(name)")
    }

    /// Writes `<name>text</name>`.
    func textElement(_ name: String, _ text: String) throws(ManifestError) {
        try check(xmlTextWriterWriteElement(writer, name, text), "element \(name)")
    }

    /// Ends the document and returns its text.
    func finish() throws(ManifestError) -> String {
        try check(xmlTextWriterEndDocument(writer), "xmlTextWriterEndDocument")
        try check(xmlTextWriterFlush(writer), "xmlTextWriterFlush")
        guard let content = xmlBufferContent(buffer) else { throw .xmlWriter("xmlBufferContent") }
        return String(cString: content)
    }

    private func check(_ result: Int32, _ step: String) throws(ManifestError) {
        if result < 0 { throw .xmlWriter(step) }
    }
}
