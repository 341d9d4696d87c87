# frozen_string_literal: true

require 'openssl'

module PuppetX
  module Mgmtgraph
    # `$trusted` for a local compile: what `puppet apply` sets (authenticated 'local', the node's certname, its
    # hostname and domain, `external` from trusted_external_command), plus the extensions of the node's
    # certificate when the node has one in ssldir (`puppet apply` leaves them empty; a Puppet Server reads them
    # from the certificate, and so do we). Extension names are Puppet's: its registered short names (pp_role,
    # pp_environment, ...), the names of `trusted_oid_mapping_file`, else the dotted OID.
    module TrustedFacts
      # A PEM certificate is a few kilobytes; a bigger file at its place is not read.
      MAX_CERT_BYTES = 1 << 20

      # @param node [Puppet::Node] with its facts merged (clientcert is the certname, as `puppet apply` takes it)
      # @return [Puppet::Context::TrustedInformation]
      # @raise [Puppet::Error] the certificate exists but cannot be read
      def self.for(node)
        local = Puppet::Context::TrustedInformation.local(node)
        certname = local.certname
        extensions = certname ? extensions_of(certificate_path(certname)) : {}
        return local if extensions.empty?

        Puppet::Context::TrustedInformation.new('local', certname, extensions, proc { local.external })
      end

      # The node's certificate: Puppet's hostcert for its own certname, else `<certdir>/<certname>.pem`.
      def self.certificate_path(certname)
        return Puppet[:hostcert] if certname == Puppet[:certname]

        File.join(Puppet[:certdir], "#{certname.downcase}.pem")
      end

      # @return [Hash{String => String}] the certificate's Puppet extensions; {} when there is no certificate
      def self.extensions_of(path)
        return {} unless File.exist?(path)

        begin
          size = File.size(path)
          if size > MAX_CERT_BYTES
            raise Puppet::Error, "The node's certificate #{path} is #{size} bytes, more than a certificate's #{MAX_CERT_BYTES}; " \
                                 'replace it with the node\'s PEM certificate, or pass --ssldir or --certname to point at the right one'
          end
          cert = OpenSSL::X509::Certificate.new(File.read(path))
        rescue SystemCallError, OpenSSL::X509::CertificateError => e
          raise Puppet::Error, "Could not read the node's certificate #{path} for $trusted.extensions: #{e.message}. " \
                               'Make it readable (a PEM certificate), or pass --ssldir or --certname to point at the right one'
        end
        register_oids
        Puppet::SSL::Certificate.from_instance(cert).custom_extensions.to_h { |ext| [ext['oid'], ext['value']] }
      end

      def self.register_oids
        return if @registered

        Puppet::SSL::Oids.register_puppet_oids
        mapping = Puppet[:trusted_oid_mapping_file]
        Puppet::SSL::Oids.load_custom_oid_file(mapping) if mapping && File.exist?(mapping)
        @registered = true
      end
    end
  end
end
