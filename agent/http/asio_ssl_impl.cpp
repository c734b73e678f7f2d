// Compiles Asio's SSL support once (BOOST_ASIO_SEPARATE_COMPILATION); the rest of
// agent/asio_impl.cpp does the same for Asio and Beast proper.
#include <boost/asio/ssl/impl/src.hpp>
